import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import type { Database } from '../../src/db/client.js';
import { type Job, jobs } from '../../src/db/schema.js';
import { JOBS_CHANNEL, type JobQueue, type NewJob } from '../../src/jobs/queue.js';

export const silentLog = pino({ level: 'silent' });

/** Enqueues one job in its own committed transaction, as a state change would. */
export function enqueue(database: Database, queue: JobQueue, job: NewJob): Promise<Job> {
  return database.db.transaction((tx) => queue.enqueue(tx, job));
}

export async function jobRow(database: Database, id: number): Promise<Job> {
  const [row] = await database.db.select().from(jobs).where(eq(jobs.id, id));
  if (!row) throw new Error(`job ${id} does not exist`);
  return row;
}

export async function clearJobs(database: Database): Promise<void> {
  await database.db.delete(jobs);
}

/** Milliseconds between a job's run_at and its updated_at, both set by one statement's now(). */
export async function runAtAfterUpdateMs(database: Database, id: number): Promise<number> {
  const [row] = await database.db
    .select({
      ms: sql<number>`extract(epoch from ${jobs.runAt} - ${jobs.updatedAt}) * 1000`.mapWith(Number),
    })
    .from(jobs)
    .where(eq(jobs.id, id));
  return row!.ms;
}

/** Polls until check returns a value other than undefined, or fails after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 5_000, intervalMs = 20 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Records every payload NOTIFY'd on the jobs channel. */
export async function listenForWakeUps(database: Database) {
  const payloads: string[] = [];
  const unlisten = await database.listen(JOBS_CHANNEL, (payload) => payloads.push(payload));
  return { payloads, unlisten };
}

/** A promise and the function that settles it, for handlers the test releases. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
