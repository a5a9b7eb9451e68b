import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createOrigin, type Origin } from '../helpers/git.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { fakeAgentConfig } from '../runner/harness.js';
import { deliveriesTo } from './deliveries.js';
import { INSTALLATION, payloadsFor, REPOSITORY, REPOSITORY_ID } from './payloads.js';
import { killProcessesUnder } from './process-table.js';

export {
  type EditablePayload,
  INSTALLATION,
  type Payloads,
  payloadsFor,
  REPOSITORY,
  REPOSITORY_ID,
  user,
} from './payloads.js';

/** Who may do what on the repository: one login per role GitHub knows. */
export const ROLES = {
  alice: 'admin',
  maya: 'maintain',
  wes: 'write',
  trina: 'triage',
  rita: 'read',
} as const;

export interface WorldSetup {
  /** Merged into the operator YAML (ORCHESTRATOR_CONFIG), which defines the fake agent. */
  operator?: Record<string, unknown>;
  /** Merged into the repository's .github/agent.yml. */
  repoConfig?: Record<string, unknown>;
}

export type BaseWorld = Awaited<ReturnType<typeof createWorld>>;

/**
 * What every way of running the app needs around it: a local GitHub with the repository's
 * .github/agent.yml and its people, a bare origin it serves over HTTP as the repository's clone
 * URL (git's tokens are the local GitHub's, minted per fetch and push), the operator file with the fake agent, a
 * webhook secret, and payload builders and signed deliveries to drive it. `appUrl` says where the
 * app listens, once it does.
 */
export async function createWorld(prefix: string, setup: WorldSetup, appUrl: () => string) {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const github: LocalGitHub = await startLocalGitHub();
  const origin: Origin = await createOrigin();
  const secret = randomBytes(16).toString('hex');
  const operatorFile = path.join(root, 'orchestrator.yml');
  writeFileSync(operatorFile, stringify({ agents: { fake: fakeAgentConfig }, ...setup.operator }));
  github.setFile(
    REPOSITORY,
    '.github/agent.yml',
    stringify({ agent: 'fake', ...setup.repoConfig }),
  );
  for (const [login, role] of Object.entries(ROLES)) github.setRole(login, role);
  // The origin is the local GitHub's repository, reached over HTTP with installation tokens.
  github.addRepository({
    fullName: REPOSITORY,
    id: REPOSITORY_ID,
    installationId: INSTALLATION,
    gitDir: origin.path,
    defaultBranch: 'main',
  });

  return {
    root,
    github,
    origin,
    secret,
    operatorFile,
    ...payloadsFor(github.gitUrl(REPOSITORY)),
    ...deliveriesTo(secret, appUrl),
    /** Once the app is stopped: ends the agents it left running, and removes everything. */
    async cleanup() {
      killProcessesUnder(root);
      await github.close();
      await origin.cleanup();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
