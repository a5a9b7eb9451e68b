import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { jobs } from '../../src/db/schema.js';
import { createJobQueue, type JobQueue } from '../../src/jobs/queue.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import {
  clearJobs,
  enqueue,
  jobRow,
  listenForWakeUps,
  runAtAfterUpdateMs,
  waitFor,
} from './support.js';

const secondsAgo = (s: number) => new Date(Date.now() - s * 1_000);

describe.each(ENGINES)('job queue on %s', (engine) => {
  let testDb: TestDatabase;
  let database: Database;
  let queue: JobQueue;

  beforeAll(async () => {
    testDb = await openTestDatabase(engine);
    database = testDb.database;
  });
  afterAll(() => testDb?.cleanup());
  beforeEach(async () => {
    await clearJobs(database);
    queue = createJobQueue({ db: database.db });
  });

  /** Makes a retried job due now, instead of waiting out its backoff. */
  const makeDue = (id: number) =>
    database.db.update(jobs).set({ runAt: sql`now()` }).where(eq(jobs.id, id));

  describe('enqueue', () => {
    it('a job enqueued in a transaction that rolls back does not exist and wakes nobody', async () => {
      const wakeUps = await listenForWakeUps(database);
      try {
        await expect(
          database.db.transaction(async (tx) => {
            await queue.enqueue(tx, { kind: 'work', runnerId: 'rolled-back' });
            throw new Error('the state change failed');
          }),
        ).rejects.toThrow('the state change failed');
        // Notifications arrive in commit order: once this one is heard, the other would have been.
        await enqueue(database, queue, { kind: 'marker', runnerId: 'committed' });
        await waitFor('the committed job to notify', () => wakeUps.payloads[0]);

        expect(wakeUps.payloads).toEqual(['committed']);
        const rows = await database.db.select().from(jobs);
        expect(rows.map((r) => r.kind)).toEqual(['marker']);
        expect(
          await queue.claim({ workerId: 'w', runnerId: 'rolled-back', kinds: ['work'], limit: 10 }),
        ).toEqual([]);
      } finally {
        await wakeUps.unlisten();
      }
    });

    it('a committed job wakes workers with its runner id and can be claimed', async () => {
      const wakeUps = await listenForWakeUps(database);
      try {
        const addressed = await enqueue(database, queue, {
          kind: 'work',
          runnerId: 'runner-a',
          sessionId: 'session-1',
          payload: { step: 'spawn' },
        });
        const unaddressed = await enqueue(database, queue, { kind: 'work' });
        await waitFor('two notifications', () => (wakeUps.payloads.length >= 2 ? true : undefined));
        expect(wakeUps.payloads).toEqual(['runner-a', '']);

        const claimed = await queue.claim({
          workerId: 'w',
          runnerId: 'runner-a',
          kinds: ['work'],
          limit: 10,
        });
        expect(claimed.map((j) => j.id)).toEqual([addressed.id, unaddressed.id]);
        expect(claimed[0]).toMatchObject({
          status: 'running',
          lockedBy: 'w',
          attempts: 1,
          sessionId: 'session-1',
          payload: { step: 'spawn' },
        });
      } finally {
        await wakeUps.unlisten();
      }
    });
  });

  describe('claim', () => {
    it('takes due jobs earliest run_at first and returns them in that order', async () => {
      const late = await enqueue(database, queue, { kind: 'work', runAt: secondsAgo(1) });
      const early = await enqueue(database, queue, { kind: 'work', runAt: secondsAgo(5) });
      const lateToo = await enqueue(database, queue, { kind: 'work', runAt: secondsAgo(1) });

      const first = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 2 });
      expect(first.map((j) => j.id)).toEqual([early.id, late.id]);
      const rest = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 2 });
      expect(rest.map((j) => j.id)).toEqual([lateToo.id]);
    });

    it('skips a job whose run_at is in the future, and nextRunAt says when it is due', async () => {
      const runAt = new Date(Date.now() + 60_000);
      await enqueue(database, queue, { kind: 'work', runAt });
      const due = await enqueue(database, queue, { kind: 'work' });

      const claimed = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 10 });
      expect(claimed.map((j) => j.id)).toEqual([due.id]);
      expect(await queue.claim({ workerId: 'w', kinds: ['work'], limit: 10 })).toEqual([]);
      expect(await queue.complete(due, 'w')).toBe(true);
      expect((await queue.nextRunAt(null, ['work']))?.getTime()).toBe(runAt.getTime());
    });

    it('takes only the kinds it is asked for, and nothing for no kinds', async () => {
      await enqueue(database, queue, { kind: 'alpha' });
      const beta = await enqueue(database, queue, { kind: 'beta' });

      expect(await queue.claim({ workerId: 'w', kinds: [], limit: 10 })).toEqual([]);
      const claimed = await queue.claim({ workerId: 'w', kinds: ['beta', 'gamma'], limit: 10 });
      expect(claimed.map((j) => j.id)).toEqual([beta.id]);
    });

    it('runs a onePerSession kind one at a time per session, other sessions and kinds meanwhile', async () => {
      const one = { kinds: ['edit', 'work'], onePerSession: ['edit'], limit: 10 };
      const first = await enqueue(database, queue, { kind: 'edit', sessionId: 's1' });
      expect((await queue.claim({ workerId: 'w', ...one })).map((j) => j.id)).toEqual([first.id]);

      const second = await enqueue(database, queue, { kind: 'edit', sessionId: 's1' });
      const elsewhere = await enqueue(database, queue, { kind: 'edit', sessionId: 's2' });
      const work = await enqueue(database, queue, { kind: 'work', sessionId: 's1' });
      const claimed = await queue.claim({ workerId: 'w', ...one });
      expect(claimed.map((j) => j.id)).toEqual([elsewhere.id, work.id]);
      // Waiting behind the running one is not "due": the worker would spin on it otherwise.
      expect(await queue.nextRunAt(null, one.kinds, one.onePerSession)).toEqual(
        (await jobRow(database, first.id)).leaseExpiresAt,
      );
      // Without the option the same job is taken at once.
      expect(await queue.nextRunAt(null, one.kinds)).toEqual(second.runAt);

      expect(await queue.complete(first, 'w')).toBe(true);
      const next = await queue.claim({ workerId: 'w', ...one });
      expect(next.map((j) => j.id)).toEqual([second.id]);
    });

    it('takes at most limit jobs', async () => {
      for (let i = 0; i < 5; i++) await enqueue(database, queue, { kind: 'work' });
      expect(await queue.claim({ workerId: 'w', kinds: ['work'], limit: 0 })).toEqual([]);
      expect(await queue.claim({ workerId: 'w', kinds: ['work'], limit: 3 })).toHaveLength(3);
      expect(await queue.claim({ workerId: 'w', kinds: ['work'], limit: 3 })).toHaveLength(2);
    });

    it('gives a job addressed to a runner only to that runner, and unaddressed jobs to anyone', async () => {
      const forA = await enqueue(database, queue, { kind: 'work', runnerId: 'runner-a' });
      const forB = await enqueue(database, queue, { kind: 'work', runnerId: 'runner-b' });
      const forAnyone = await enqueue(database, queue, { kind: 'work' });
      const claim = (runnerId: string | null) =>
        queue.claim({ workerId: `w-${runnerId}`, runnerId, kinds: ['work'], limit: 10 });

      expect(await queue.nextRunAt('runner-c', ['work'])).not.toBeNull();
      const [anyone] = await claim(null);
      expect(anyone?.id).toBe(forAnyone.id);
      expect(await queue.complete(anyone!, 'w-null')).toBe(true);
      expect(await claim('runner-c')).toEqual([]);
      expect(await queue.nextRunAt('runner-c', ['work'])).toBeNull();
      expect((await claim('runner-b')).map((j) => j.id)).toEqual([forB.id]);
      expect((await claim('runner-a')).map((j) => j.id)).toEqual([forA.id]);
    });
  });

  describe('complete and fail', () => {
    it('complete marks a job done and it is never claimed again', async () => {
      const job = await enqueue(database, queue, { kind: 'work' });
      const [claimed] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });

      expect(await queue.complete(claimed!, 'w')).toBe(true);
      expect(await jobRow(database, job.id)).toMatchObject({
        status: 'done',
        attempts: 1,
        lockedBy: null,
        leaseExpiresAt: null,
        completedAt: expect.any(Date),
      });
      expect(await queue.claim({ workerId: 'w2', kinds: ['work'], limit: 1 })).toEqual([]);
      expect(await queue.complete(claimed!, 'w')).toBe(false);
    });

    it('a failed job is retried after an exponential backoff, capped, with its attempts counted', async () => {
      queue = createJobQueue({ db: database.db, backoffBaseMs: 10_000, backoffMaxMs: 25_000 });
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 5 });
      const expectedDelays = [10_000, 20_000, 25_000];

      for (const [i, delay] of expectedDelays.entries()) {
        const [claimed] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });
        expect(claimed?.attempts).toBe(i + 1);
        expect(await queue.fail(claimed!, 'w', new Error(`failure ${i + 1}`))).toBe('retry');

        const row = await jobRow(database, job.id);
        expect(row).toMatchObject({ status: 'pending', attempts: i + 1, lockedBy: null });
        expect(row.lastError).toContain(`failure ${i + 1}`);
        expect(await runAtAfterUpdateMs(database, job.id)).toBe(delay);
        // Not due until the backoff has passed.
        expect(await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 })).toEqual([]);
        await makeDue(job.id);
      }
    });

    it('a job that fails on its last attempt is dead, with the last error kept', async () => {
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 2 });
      const [first] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });
      expect(await queue.fail(first!, 'w', new Error('first failure'))).toBe('retry');
      await makeDue(job.id);
      const [second] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });
      expect(await queue.fail(second!, 'w', new Error('second failure'))).toBe('dead');

      const row = await jobRow(database, job.id);
      expect(row).toMatchObject({ status: 'dead', attempts: 2, lockedBy: null });
      expect(row.lastError).toContain('second failure');
      expect(row.lastError).not.toContain('first failure');
      await makeDue(job.id);
      expect(await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 })).toEqual([]);
    });

    it("a database error as a job's last error keeps the statement and never its parameters", async () => {
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 1 });
      const [claimed] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });
      // A second row with the job's id, a duplicate key: drizzle's message lists every parameter.
      const failure = await database.db
        .insert(jobs)
        .values(
          Array.from({ length: 3 }, (_, i) => ({
            id: job.id,
            kind: `secret-parameter-${i}`,
            payload: {},
          })),
        )
        .catch((error: unknown) => error);
      expect(String((failure as Error).message)).toContain('secret-parameter-1');
      expect(await queue.fail(claimed!, 'w', failure)).toBe('dead');

      const row = await jobRow(database, job.id);
      expect(row.lastError).toMatch(/Failed query: insert into "jobs"/);
      expect(row.lastError).not.toContain('secret-parameter');
      expect(row.lastError!.length).toBeLessThanOrEqual(4_000 + '\n[truncated]'.length);
    });

    it('a permanent failure makes the job dead at once', async () => {
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 5 });
      const [claimed] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });
      const outcome = await queue.fail(claimed!, 'w', 'no such session', { permanent: true });

      expect(outcome).toBe('dead');
      expect(await jobRow(database, job.id)).toMatchObject({
        status: 'dead',
        attempts: 1,
        lastError: 'no such session',
      });
    });
  });

  describe('leases', () => {
    it('an expired lease lets another worker claim the job, and the old holder can no longer finish it', async () => {
      queue = createJobQueue({ db: database.db, leaseMs: 300 });
      const job = await enqueue(database, queue, { kind: 'work' });
      const [held] = await queue.claim({ workerId: 'old', kinds: ['work'], limit: 1 });
      expect(await queue.claim({ workerId: 'new', kinds: ['work'], limit: 1 })).toEqual([]);

      const [taken] = await waitFor('the lease to expire', async () => {
        const claimed = await queue.claim({ workerId: 'new', kinds: ['work'], limit: 1 });
        return claimed.length > 0 ? claimed : undefined;
      });
      expect(taken).toMatchObject({ id: job.id, lockedBy: 'new', attempts: 2 });

      expect(await queue.complete(held!, 'old')).toBe(false);
      expect(await queue.fail(held!, 'old', new Error('too late'))).toBe('lost');
      expect(await queue.extendLease(held!, 'old')).toBe(false);
      expect(await jobRow(database, job.id)).toMatchObject({ status: 'running', lockedBy: 'new' });
      expect(await queue.complete(taken!, 'new')).toBe(true);
    });

    it('a job whose lease expires on its last attempt becomes dead, saying why', async () => {
      queue = createJobQueue({ db: database.db, leaseMs: 300 });
      const job = await enqueue(database, queue, { kind: 'work', maxAttempts: 1 });
      await queue.claim({ workerId: 'old', kinds: ['work'], limit: 1 });

      await waitFor('the job to die', async () => {
        // Any claim sweeps expired leases, whatever kinds it asks for.
        await queue.claim({ workerId: 'new', kinds: ['other'], limit: 1 });
        return (await jobRow(database, job.id)).status === 'dead' ? true : undefined;
      });
      const row = await jobRow(database, job.id);
      expect(row).toMatchObject({ attempts: 1, lockedBy: null, leaseExpiresAt: null });
      expect(row.lastError).toMatch(/lease expired on attempt 1 of 1/);
      expect(await queue.claim({ workerId: 'new', kinds: ['work'], limit: 1 })).toEqual([]);
    });

    it('extending a lease keeps the job from being taken over', async () => {
      queue = createJobQueue({ db: database.db, leaseMs: 300 });
      const job = await enqueue(database, queue, { kind: 'work' });
      const [held] = await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });

      for (let i = 0; i < 6; i++) {
        await sleep(100);
        expect(await queue.extendLease(held!, 'w')).toBe(true);
        expect(await queue.claim({ workerId: 'thief', kinds: ['work'], limit: 1 })).toEqual([]);
      }
      expect(await queue.complete(held!, 'w')).toBe(true);
      expect(await jobRow(database, job.id)).toMatchObject({ status: 'done', attempts: 1 });
    });

    it('nextRunAt reports when a held job’s lease expires, since it is claimable from then', async () => {
      const job = await enqueue(database, queue, { kind: 'work' });
      await queue.claim({ workerId: 'w', kinds: ['work'], limit: 1 });
      const { leaseExpiresAt } = await jobRow(database, job.id);

      expect(leaseExpiresAt).not.toBeNull();
      expect(await queue.nextRunAt(null, ['work'])).toEqual(leaseExpiresAt);
      expect(await queue.nextRunAt(null, ['other'])).toBeNull();
    });

    it('releaseLeases hands a worker’s jobs back as pending without counting the attempt', async () => {
      const mine = [
        await enqueue(database, queue, { kind: 'work' }),
        await enqueue(database, queue, { kind: 'work' }),
      ];
      const theirs = await enqueue(database, queue, { kind: 'work' });
      await queue.claim({ workerId: 'stopping', kinds: ['work'], limit: 2 });
      await queue.claim({ workerId: 'other', kinds: ['work'], limit: 1 });

      expect(await queue.releaseLeases('stopping')).toBe(2);
      for (const job of mine) {
        expect(await jobRow(database, job.id)).toMatchObject({
          status: 'pending',
          attempts: 0,
          lockedBy: null,
          leaseExpiresAt: null,
        });
      }
      expect(await jobRow(database, theirs.id)).toMatchObject({
        status: 'running',
        lockedBy: 'other',
      });
      const reclaimed = await queue.claim({ workerId: 'next', kinds: ['work'], limit: 10 });
      expect(reclaimed.map((j) => [j.id, j.attempts])).toEqual(mine.map((j) => [j.id, 1]));
      expect(await queue.releaseLeases('stopping')).toBe(0);
    });
  });
});
