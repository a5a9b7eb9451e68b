/**
 * The tests' local GitHub in a process of its own, so the API calls the app makes under load
 * do not run on the load generator's event loop. Prints its settings (GHE_HOST, GHE_PROTOCOL)
 * as one JSON line on stdout, then serves until SIGTERM.
 * Usage: node --import tsx bench/support/local-github-process.ts
 */
import { startLocalGitHub } from '../../test/helpers/local-github.js';
import { REPOSITORY } from './payloads.js';

const github = await startLocalGitHub();
github.setFile(REPOSITORY, '.github/agent.yml', 'agent: fake\n');
github.setRole('alice', 'admin');
process.stdout.write(`${JSON.stringify(github.env)}\n`);
process.once('SIGTERM', () => {
  void github.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
});
