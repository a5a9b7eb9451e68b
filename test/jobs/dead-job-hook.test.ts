import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import type { Job } from '../../src/db/schema.js';
import { createJobQueue, type JobQueue } from '../../src/jobs/queue.js';
import { createWorker, type JobHandler, type Worker } from '../../src/jobs/worker.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { clearJobs, enqueue, jobRow, silentLog, waitFor as waitBriefly } from './support.js';

/** Generous: the machine may be busy. */
const waitFor = <T>(what: string, check: () => T | undefined | Promise<T | undefined>) =>
  waitBriefly(what, check, { timeoutMs: 30_000 });

describe.each(ENGINES)('the dead-job hook of a worker on %s', (engine) => {
  let testDb: TestDatabase;
  let database: Database;
  let workers: Worker[] = [];

  beforeAll(async () => {
    testDb = await openTestDatabase(engine);
    database = testDb.database;
  });
  afterAll(() => testDb?.cleanup());
  beforeEach(() => clearJobs(database));
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 0 })));
    workers = [];
  });

  async function startWorker(
    queue: JobQueue,
    handlers: Record<string, JobHandler>,
    onDead: (job: Job) => Promise<void>,
  ) {
    const worker = createWorker({ database, queue, handlers, log: silentLog, onDead });
    workers.push(worker);
    await worker.start();
    return worker;
  }

  it('is told once of a job whose attempts ran out, as written: dead, with its last error', async () => {
    const queue = createJobQueue({ db: database.db, backoffBaseMs: 20 });
    const reported: Job[] = [];
    const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 3 });
    await startWorker(
      queue,
      {
        work: async (j) => {
          throw new Error(`broken on attempt ${j.attempts}`);
        },
        fine: async () => {},
      },
      async (dead) => void reported.push(dead),
    );

    const [dead] = await waitFor('the report', () => (reported.length ? reported : undefined));
    expect(dead).toMatchObject({ id: job.id, kind: 'work', status: 'dead', attempts: 3 });
    expect(dead!.lastError).toContain('broken on attempt 3');
    expect((await jobRow(database, job.id)).lastError).toBe(dead!.lastError);
    // A job that succeeds, or fails and is retried, is not reported.
    const fine = await enqueue(database, queue, { kind: 'fine' });
    await waitFor('the fine job', async () =>
      (await jobRow(database, fine.id)).status === 'done' ? true : undefined,
    );
    expect(reported).toHaveLength(1);
  });

  it('is told of a job whose holder stopped during its last attempt, by the next claim', async () => {
    const queue = createJobQueue({ db: database.db, leaseMs: 200 });
    const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 1 });
    // A worker took it and died: nothing renews the lease.
    expect(await queue.claim({ workerId: 'crashed', kinds: ['work'], limit: 1 })).toHaveLength(1);
    const reported: Job[] = [];
    await startWorker(queue, { work: async () => {} }, async (dead) => void reported.push(dead));

    const [dead] = await waitFor('the report', () => (reported.length ? reported : undefined));
    expect(dead).toMatchObject({ id: job.id, status: 'dead', attempts: 1 });
    expect(dead!.lastError).toMatch(/lease expired on attempt 1 of 1/);
  });

  it('failing itself leaves the job dead and the worker running', async () => {
    const queue = createJobQueue({ db: database.db });
    const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 1 });
    let told = 0;
    await startWorker(
      queue,
      {
        work: async () => {
          throw new Error('no');
        },
        fine: async () => {},
      },
      async () => {
        told++;
        throw new Error('the report could not be written');
      },
    );
    await waitFor('the report', () => (told > 0 ? true : undefined));
    expect((await jobRow(database, job.id)).status).toBe('dead');
    const next = await enqueue(database, queue, { kind: 'fine' });
    await waitFor('the next job', async () =>
      (await jobRow(database, next.id)).status === 'done' ? true : undefined,
    );
  });
});
