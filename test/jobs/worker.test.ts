import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { type Job, jobs } from '../../src/db/schema.js';
import { createJobQueue, type JobQueue, type JobQueueOptions } from '../../src/jobs/queue.js';
import {
  createWorker,
  type JobHandler,
  PermanentJobError,
  type Worker,
  type WorkerOptions,
} from '../../src/jobs/worker.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import {
  clearJobs,
  deferred,
  enqueue,
  jobRow,
  listenForWakeUps,
  silentLog,
  waitFor,
} from './support.js';

/** Long enough that a test passing within seconds cannot have been saved by the poll. */
const NO_POLL = 60_000;

describe.each(ENGINES)('job worker on %s', (engine) => {
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

  const newQueue = (options: Omit<JobQueueOptions, 'db'> = {}) =>
    createJobQueue({ db: database.db, ...options });

  function startWorker(
    queue: JobQueue,
    handlers: Record<string, JobHandler>,
    options: Partial<WorkerOptions> = {},
  ): { worker: Worker; started: Promise<void> } {
    const worker = createWorker({
      database,
      queue,
      handlers,
      log: silentLog,
      pollMs: NO_POLL,
      ...options,
    });
    workers.push(worker);
    return { worker, started: worker.start() };
  }

  const waitForStatus = (id: number, status: Job['status'], timeoutMs = 5_000) =>
    waitFor(
      `job ${id} to be ${status}`,
      async () => {
        const row = await jobRow(database, id);
        return row.status === status ? row : undefined;
      },
      { timeoutMs },
    );

  describe('waking up', () => {
    it('runs a job enqueued after start promptly, woken by NOTIFY rather than the poll', async () => {
      const queue = newQueue();
      const ran: number[] = [];
      await startWorker(queue, { work: async (job) => void ran.push(job.id) }).started;
      await sleep(100);

      const enqueuedAt = Date.now();
      const job = await enqueue(database, queue, { kind: 'work' });
      await waitForStatus(job.id, 'done', 3_000);
      expect(ran).toEqual([job.id]);
      expect(Date.now() - enqueuedAt).toBeLessThan(3_000);
    });

    it('a runner’s worker is woken for jobs addressed to it and leaves other runners’ jobs alone', async () => {
      const queue = newQueue();
      const ran: number[] = [];
      await startWorker(
        queue,
        { work: async (job) => void ran.push(job.id) },
        { runnerId: 'runner-a' },
      ).started;

      const other = await enqueue(database, queue, { kind: 'work', runnerId: 'runner-b' });
      const mine = await enqueue(database, queue, { kind: 'work', runnerId: 'runner-a' });
      await waitForStatus(mine.id, 'done', 3_000);
      await sleep(200);
      expect(ran).toEqual([mine.id]);
      expect(await jobRow(database, other.id)).toMatchObject({ status: 'pending', attempts: 0 });
    });

    it('runs a delayed job when it becomes due, without waiting for the poll', async () => {
      const queue = newQueue();
      const ranAt: number[] = [];
      await startWorker(queue, { work: async () => void ranAt.push(Date.now()) }).started;

      const runAt = new Date(Date.now() + 500);
      const job = await enqueue(database, queue, { kind: 'work', runAt });
      await waitForStatus(job.id, 'done', 3_000);
      expect(ranAt[0]).toBeGreaterThanOrEqual(runAt.getTime() - 20);
    });

    it('a wake-up that arrives while the worker is checking for due jobs is not lost', async () => {
      const real = newQueue();
      let injected: Job | undefined;
      // Stands for a job committed just after nextRunAt read the table: its NOTIFY lands while
      // the worker is still finishing that pump.
      const queue: JobQueue = {
        ...real,
        async nextRunAt(runnerId, kinds) {
          const next = await real.nextRunAt(runnerId, kinds);
          if (!injected) {
            const wakeUps = await listenForWakeUps(database);
            injected = await enqueue(database, real, { kind: 'work' });
            await waitFor('the NOTIFY', () => wakeUps.payloads[0]);
            await wakeUps.unlisten();
            await sleep(20);
          }
          return next;
        },
      };
      const ran: number[] = [];
      await startWorker(queue, { work: async (job) => void ran.push(job.id) }).started;

      expect(injected).toBeDefined();
      await waitForStatus(injected!.id, 'done', 3_000);
      expect(ran).toEqual([injected!.id]);
    });

    it('reclaims a job as soon as its dead holder’s lease expires, without waiting for the poll', async () => {
      const queue = newQueue({ leaseMs: 500 });
      const job = await enqueue(database, queue, { kind: 'work' });
      await queue.claim({ workerId: 'crashed', kinds: ['work'], limit: 1 });
      const { leaseExpiresAt } = await jobRow(database, job.id);

      const ranAt: number[] = [];
      await startWorker(queue, { work: async () => void ranAt.push(Date.now()) }).started;
      const row = await waitForStatus(job.id, 'done', 3_000);
      expect(row.attempts).toBe(2);
      expect(ranAt[0]).toBeGreaterThanOrEqual(leaseExpiresAt!.getTime() - 20);
    });
  });

  describe('outcomes', () => {
    it('completes a job whose handler resolves, passing it the job', async () => {
      const queue = newQueue();
      const seen: Job[] = [];
      const job = await enqueue(database, queue, { kind: 'work', payload: { n: 7 } });
      await startWorker(queue, { work: async (j) => void seen.push(j) }).started;

      const row = await waitForStatus(job.id, 'done');
      expect(row).toMatchObject({ attempts: 1, lockedBy: null, lastError: null });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ id: job.id, payload: { n: 7 }, attempts: 1 });
    });

    it('retries a failing job after growing backoffs until it succeeds', async () => {
      const queue = newQueue({ backoffBaseMs: 150 });
      const starts: number[] = [];
      const failures: number[] = [];
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 5 });
      await startWorker(queue, {
        work: async (j) => {
          starts.push(Date.now());
          if (j.attempts < 3) {
            failures.push(Date.now());
            throw new Error(`flaky ${j.attempts}`);
          }
        },
      }).started;

      const row = await waitForStatus(job.id, 'done');
      expect(row.attempts).toBe(3);
      expect(row.lastError).toContain('flaky 2');
      expect(starts).toHaveLength(3);
      // Retry n waits backoffBaseMs * 2^(n-1) after the failure (a little clock slack).
      expect(starts[1]! - failures[0]!).toBeGreaterThanOrEqual(150 - 20);
      expect(starts[2]! - failures[1]!).toBeGreaterThanOrEqual(300 - 20);
    });

    it('a job failing every attempt ends dead with the last error', async () => {
      const queue = newQueue({ backoffBaseMs: 20 });
      let calls = 0;
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 3 });
      await startWorker(queue, {
        work: async (j) => {
          calls++;
          throw new Error(`broken on attempt ${j.attempts}`);
        },
      }).started;

      const row = await waitForStatus(job.id, 'dead');
      expect(row.attempts).toBe(3);
      expect(row.lastError).toContain('broken on attempt 3');
      await sleep(200);
      expect(calls).toBe(3);
    });

    it('a PermanentJobError makes the job dead at once', async () => {
      const queue = newQueue({ backoffBaseMs: 20 });
      let calls = 0;
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 5 });
      await startWorker(queue, {
        work: async () => {
          calls++;
          throw new PermanentJobError('the session is gone');
        },
      }).started;

      const row = await waitForStatus(job.id, 'dead');
      expect(row.attempts).toBe(1);
      expect(row.lastError).toContain('PermanentJobError: the session is gone');
      await sleep(200);
      expect(calls).toBe(1);
    });

    it('keeps renewing the lease of a long job so nobody takes it over', async () => {
      const queue = newQueue({ leaseMs: 300 });
      const job = await enqueue(database, queue, { kind: 'work' });
      const finish = deferred();
      await startWorker(queue, { work: () => finish.promise }).started;
      await waitForStatus(job.id, 'running');

      for (let i = 0; i < 4; i++) {
        await sleep(250);
        expect(await queue.claim({ workerId: 'thief', kinds: ['work'], limit: 1 })).toEqual([]);
      }
      finish.resolve();
      expect(await waitForStatus(job.id, 'done')).toMatchObject({ attempts: 1 });
    });

    it('aborts the handler’s signal when the lease is taken over, and leaves the job to its new holder', async () => {
      const queue = newQueue({ leaseMs: 300 });
      const job = await enqueue(database, queue, { kind: 'work' });
      const aborted = deferred<unknown>();
      await startWorker(queue, {
        work: (_job, { signal }) =>
          new Promise((_resolve, reject) => {
            signal.addEventListener('abort', () => {
              aborted.resolve(signal.reason);
              reject(signal.reason);
            });
          }),
      }).started;
      await waitForStatus(job.id, 'running');

      await database.db
        .update(jobs)
        .set({ lockedBy: 'thief', leaseExpiresAt: sql`now() + interval '1 hour'` })
        .where(eq(jobs.id, job.id));
      const reason = await Promise.race([aborted.promise, sleep(2_000, 'not aborted')]);
      expect(String(reason)).toContain('lease lost');
      await sleep(100);
      expect(await jobRow(database, job.id)).toMatchObject({
        status: 'running',
        lockedBy: 'thief',
        attempts: 1,
      });
    });
  });

  describe('stopping', () => {
    it('lets a running job finish within the grace period', async () => {
      const queue = newQueue();
      const job = await enqueue(database, queue, { kind: 'work' });
      let aborted = false;
      const { worker, started } = startWorker(queue, {
        work: async (_job, { signal }) => {
          await sleep(200);
          aborted = signal.aborted;
        },
      });
      await started;
      await waitForStatus(job.id, 'running');

      await worker.stop({ graceMs: 5_000 });
      expect(aborted).toBe(false);
      expect(await jobRow(database, job.id)).toMatchObject({ status: 'done', attempts: 1 });
    });

    it('aborts a hung handler past the grace period and hands its job to another worker', async () => {
      const queue = newQueue();
      const job = await enqueue(database, queue, { kind: 'work' });
      const aborted = deferred<unknown>();
      const { worker, started } = startWorker(queue, {
        // Hung for good: it notices the abort but never settles.
        work: (_job, { signal }) => {
          signal.addEventListener('abort', () => aborted.resolve(signal.reason));
          return new Promise(() => {});
        },
      });
      await started;
      await waitForStatus(job.id, 'running');

      const stopStarted = Date.now();
      await worker.stop({ graceMs: 200 });
      expect(Date.now() - stopStarted).toBeLessThan(2_000);
      expect(String(await aborted.promise)).toContain('worker stopping');
      expect(await jobRow(database, job.id)).toMatchObject({
        status: 'pending',
        attempts: 0,
        lockedBy: null,
      });

      const ranBy: string[] = [];
      const next = startWorker(queue, { work: async () => void ranBy.push(next.worker.workerId) });
      await next.started;
      expect(await waitForStatus(job.id, 'done')).toMatchObject({ attempts: 1 });
      expect(ranBy).toEqual([next.worker.workerId]);
      expect(next.worker.workerId).not.toBe(worker.workerId);
    });

    it('stops renewing the lease of a handler that ignores its abort', async () => {
      const real = newQueue({ leaseMs: 150 });
      let renewals = 0;
      const queue: JobQueue = {
        ...real,
        extendLease: (job, workerId) => {
          renewals++;
          return real.extendLease(job, workerId);
        },
      };
      const job = await enqueue(database, queue, { kind: 'work' });
      const { worker, started } = startWorker(queue, { work: () => new Promise(() => {}) });
      await started;
      await waitFor('a renewal', () => (renewals > 0 ? true : undefined));

      await worker.stop({ graceMs: 0 });
      const renewalsAtStop = renewals;
      await sleep(300);
      expect(renewals).toBe(renewalsAtStop);
      expect(await jobRow(database, job.id)).toMatchObject({ status: 'pending', lockedBy: null });
    });

    it('a job claimed while the worker is stopping runs within the grace period, not after stop returns', async () => {
      const real = newQueue();
      const claimEntered = deferred();
      const claimMayGo = deferred();
      const queue: JobQueue = {
        ...real,
        async claim(options) {
          claimEntered.resolve();
          await claimMayGo.promise;
          return real.claim(options);
        },
      };
      const job = await enqueue(database, queue, { kind: 'work' });
      const ranAt: number[] = [];
      const { worker, started } = startWorker(queue, {
        work: async () => void ranAt.push(Date.now()),
      });
      await claimEntered.promise;

      const stopped = worker.stop({ graceMs: 5_000 }).then(() => Date.now());
      setTimeout(() => claimMayGo.resolve(), 200);
      const stoppedAt = await stopped;
      await started;
      await sleep(200);

      expect(ranAt).toHaveLength(1);
      expect(ranAt[0]).toBeLessThanOrEqual(stoppedAt);
      expect(await jobRow(database, job.id)).toMatchObject({ status: 'done', lockedBy: null });
    });
  });
});
