import { setImmediate } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../src/db/schema.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createWorker, type Worker } from '../../src/jobs/worker.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { silentLog, waitFor } from './support.js';

const JOBS = 2_000;
const WORKERS = 8;

// PGlite is one connection in one process: only Postgres has workers racing for rows.
describe('job queue under concurrent workers on postgres', () => {
  let testDb: TestDatabase;
  const workers: Worker[] = [];

  beforeAll(async () => {
    testDb = await openTestDatabase('postgres');
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 0 })));
    await testDb?.cleanup();
  });

  it('2,000 jobs claimed by 8 workers on their own connections each run exactly once', async () => {
    const runs: { jobId: number; workerId: string }[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const database = await testDb.connect({ maxConnections: 2 });
      const queue = createJobQueue({ db: database.db });
      const worker: Worker = createWorker({
        database,
        queue,
        log: silentLog,
        workerId: `worker-${i}`,
        concurrency: 4,
        // Only NOTIFY and finished jobs wake the workers: a lost wake-up would stall the test.
        pollMs: 60_000,
        handlers: {
          work: async (job) => {
            runs.push({ jobId: job.id, workerId: worker.workerId });
            await setImmediate();
          },
        },
      });
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => w.start()));

    const { database } = testDb;
    const producer = createJobQueue({ db: database.db });
    // Several commits, so workers are woken while others are mid-claim.
    for (let batch = 0; batch < 4; batch++) {
      await database.db.transaction(async (tx) => {
        for (let i = 0; i < JOBS / 4; i++) await producer.enqueue(tx, { kind: 'work' });
      });
    }

    const countByStatus = async () => {
      const rows = await database.db
        .select({ status: jobs.status, n: sql<number>`count(*)`.mapWith(Number) })
        .from(jobs)
        .groupBy(jobs.status);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    };
    const counts = await waitFor(
      'every job to be done',
      async () => {
        const c = await countByStatus();
        return c.done === JOBS ? c : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 100 },
    );
    await Promise.all(workers.map((w) => w.stop({ graceMs: 1_000 })));

    expect(counts).toEqual({ done: JOBS });
    const ids = runs.map((r) => r.jobId);
    expect(ids).toHaveLength(JOBS);
    expect(new Set(ids).size).toBe(JOBS);
    const [attempts] = await database.db
      .select({
        min: sql<number>`min(${jobs.attempts})`.mapWith(Number),
        max: sql<number>`max(${jobs.attempts})`.mapWith(Number),
      })
      .from(jobs);
    expect(attempts).toEqual({ min: 1, max: 1 });
    // The race was real: the work was shared out.
    expect(new Set(runs.map((r) => r.workerId)).size).toBeGreaterThan(1);
  });
});
