import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PgliteStartOptions } from './pglite-settings.js';

// The child: creates the cluster (PGlite runs initdb when the folder has none), shuts it down.
const INITDB_SCRIPT = `
const [entry, dataDir, options] = process.argv.slice(1);
require(entry).PGlite.create(dataDir, JSON.parse(options))
  .then((pg) => pg.close())
  .catch((error) => { console.error(error); process.exitCode = 1; });
`;

/**
 * Creates a PGlite cluster in dataDir unless it holds one, in a short-lived child process;
 * resolves to whether it created one. PGlite's initdb runs a second Postgres beside the first
 * and copies its whole heap (at least 128 MB each): run in this process, that leaves some 450 MB
 * that neither the garbage collector of an idle process nor malloc gives back. A child gives
 * it all back when it exits, before this process opens the cluster.
 */
export async function initPgliteDataDir(
  dataDir: string,
  options: PgliteStartOptions,
): Promise<boolean> {
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return false;
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const child = spawn(
    process.execPath,
    // Code that runs once gains nothing from V8's optimizing compiler; it costs the child a
    // third of its CPU time and 60 MB or more.
    ['--liftoff-only', '-e', INITDB_SCRIPT, entry, dataDir, JSON.stringify(options)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(
      `Could not create the embedded database in ${dataDir} (exit ${code}): ${stderr.trim()}. Check that DATA_DIR is writable and has space, or set DATABASE_URL to use PostgreSQL.`,
    );
  }
  return true;
}
