import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createWorker, type Worker } from '../../src/jobs/worker.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { enqueue, jobRow, silentLog, waitFor } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/worker-that-hangs.ts', import.meta.url));
const LEASE_MS = 1_000;

/** Resolves with the first stdout line matching pattern; rejects if the process exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number) {
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms\n${stderr}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.split('\n').find((line) => pattern.test(line));
      if (match) {
        clearTimeout(timer);
        resolve(match.match(pattern)!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before printing ${pattern}\n${stderr}`));
    });
  });
}

// PGlite cannot be shared between processes, so this runs on Postgres only.
describe('a worker process killed while holding a job, on postgres', () => {
  let testDb: TestDatabase;
  let database: Database;
  let child: ChildProcess | undefined;
  let survivor: Worker | undefined;

  beforeAll(async () => {
    testDb = await openTestDatabase('postgres');
    database = testDb.database;
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await survivor?.stop({ graceMs: 0 });
  });
  afterAll(() => testDb?.cleanup());

  it('leaves its job to be run by another worker once the lease expires, done on attempt 2', async () => {
    const queue = createJobQueue({ db: database.db, leaseMs: LEASE_MS });
    const job = await enqueue(database, queue, { kind: 'crash-test' });

    child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, testDb.url!, String(LEASE_MS), 'crash-test'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const [, claimedId] = await waitForLine(child, /^claimed (\d+)$/, 20_000);
    expect(Number(claimedId)).toBe(job.id);
    expect(await jobRow(database, job.id)).toMatchObject({
      status: 'running',
      lockedBy: `doomed:${child.pid}`,
      attempts: 1,
    });

    const ranAt: number[] = [];
    survivor = createWorker({
      database,
      queue,
      log: silentLog,
      pollMs: 60_000,
      handlers: { 'crash-test': async () => void ranAt.push(Date.now()) },
    });
    await survivor.start();
    // While the hung process lives it keeps renewing the lease, so nobody else runs the job.
    await sleep(LEASE_MS * 1.5);
    expect(ranAt).toEqual([]);

    child.kill('SIGKILL');
    await once(child, 'exit');
    await sleep(50); // a renewal sent just before the kill may still commit
    const { leaseExpiresAt } = await jobRow(database, job.id);

    const row = await waitFor(
      'the job to be done',
      async () => {
        const r = await jobRow(database, job.id);
        return r.status === 'done' ? r : undefined;
      },
      { timeoutMs: LEASE_MS + 5_000 },
    );
    expect(row).toMatchObject({ attempts: 2, lockedBy: null });
    expect(ranAt).toHaveLength(1);
    expect(ranAt[0]).toBeGreaterThanOrEqual(leaseExpiresAt!.getTime() - 20);
  });
});
