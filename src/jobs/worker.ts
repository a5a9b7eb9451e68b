import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { Job } from '../db/schema.js';
import { errorText } from '../serialize-error.js';
import { JOBS_CHANNEL, type JobQueue } from './queue.js';

export interface JobContext {
  /** Aborted when the worker loses the job's lease or stops past its grace period. */
  signal: AbortSignal;
  log: Logger;
}

export type JobHandler = (job: Job, context: JobContext) => Promise<void>;

/**
 * Told of a job that will not run again (its attempts ran out, or retrying could not help), as
 * written: status `dead`, its attempts and its last error. Where it is said is the caller's.
 */
export type DeadJobHook = (job: Job) => Promise<void>;

/** Throw from a handler when retrying cannot help (bad payload, missing session). */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** Throw from a handler to run it again after the backoff when that is expected, not a fault. */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

export interface WorkerOptions {
  database: Database;
  queue: JobQueue;
  handlers: Record<string, JobHandler>;
  /** Kinds of which this worker runs one at a time per session (see ClaimOptions). */
  onePerSession?: readonly string[];
  log: Logger;
  /** The runner this worker serves; it also takes jobs addressed to nobody. */
  runnerId?: string | null;
  workerId?: string;
  /** Jobs run at once (default 4). */
  concurrency?: number;
  /** The safety-net poll when no notification arrives (default 5 s). */
  pollMs?: number;
  /** Told of each job this worker marks dead; its own failure is logged, never the job's. */
  onDead?: DeadJobHook | undefined;
}

export type Worker = ReturnType<typeof createWorker>;

/**
 * Runs jobs as they become due: woken by NOTIFY when a job commits, by a timer for delayed
 * retries, and by a slow poll in case a notification was missed.
 */
export function createWorker({
  database,
  queue,
  handlers,
  onePerSession = [],
  log,
  runnerId = null,
  workerId = `${runnerId ?? 'worker'}:${randomUUID().slice(0, 8)}`,
  concurrency = 4,
  pollMs = 5_000,
  onDead,
}: WorkerOptions) {
  const kinds = Object.keys(handlers);
  const running = new Map<
    number,
    { promise: Promise<void>; abort: AbortController; renew: NodeJS.Timeout }
  >();
  let state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  let pumping = false;
  let pumpAgain = false;
  /** The pump in progress (or the last one): stop() waits for a claim in flight. */
  let pumped: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  /** Reports of jobs the claim found dead, in flight: stop() gives them the jobs' grace. */
  const reports = new Set<Promise<void>>();

  function reportDead(job: Job): Promise<void> {
    if (!onDead) return Promise.resolve();
    const report = onDead(job)
      .catch((error: unknown) => {
        log.error({ err: error, jobId: job.id, kind: job.kind }, 'could not report a dead job');
      })
      .finally(() => reports.delete(report));
    reports.add(report);
    return report;
  }

  function schedule(ms: number) {
    if (state !== 'running') return;
    clearTimeout(timer);
    timer = setTimeout(() => void pump(), Math.max(0, ms));
    timer.unref();
  }

  function pump(): Promise<void> {
    if (state !== 'running') return pumped;
    if (pumping) {
      pumpAgain = true;
      return pumped;
    }
    pumping = true;
    pumped = drain();
    return pumped;
  }

  async function drain(): Promise<void> {
    try {
      // A wake-up that arrives while nextRunAt is in flight must loop too: that query may not
      // have seen the job whose commit sent it.
      do {
        pumpAgain = false;
        while (state === 'running' && running.size < concurrency) {
          const claimed = await queue.claim({
            workerId,
            runnerId,
            kinds,
            onePerSession,
            limit: concurrency - running.size,
            onDead: (job) => void reportDead(job),
          });
          for (const job of claimed) start(job);
          if (claimed.length === 0) break;
        }
        if (state !== 'running') return;
        const next =
          running.size < concurrency ? await queue.nextRunAt(runnerId, kinds, onePerSession) : null;
        schedule(next ? Math.min(pollMs, next.getTime() - Date.now()) : pollMs);
      } while (pumpAgain && state === 'running');
    } catch (error) {
      log.warn({ err: error, workerId }, 'claiming jobs failed; trying again shortly');
      schedule(Math.min(pollMs, 1_000));
    } finally {
      pumping = false;
    }
  }

  function start(job: Job) {
    const abort = new AbortController();
    const jobLog = log.child({ jobId: job.id, kind: job.kind, sessionId: job.sessionId });
    const renew = setInterval(async () => {
      const held = await queue.extendLease(job, workerId).catch(() => true);
      if (!held) abort.abort(new Error('lease lost'));
    }, queue.leaseMs / 3);
    renew.unref();
    const promise = (async () => {
      try {
        await handlers[job.kind]!(job, { signal: abort.signal, log: jobLog });
        clearInterval(renew);
        if (!(await queue.complete(job, workerId))) {
          jobLog.warn('job finished after its lease was lost');
        }
      } catch (error) {
        clearInterval(renew);
        if (state === 'stopped' && abort.signal.aborted) return; // released at shutdown
        const permanent = error instanceof PermanentJobError;
        const outcome = await queue.fail(job, workerId, error, { permanent }).catch((e) => {
          jobLog.error({ err: e }, 'could not record the job failure; its lease will expire');
          return 'lost' as const;
        });
        const level =
          outcome === 'dead' ? 'error' : error instanceof RetryLaterError ? 'debug' : 'warn';
        jobLog[level]({ err: error, attempt: job.attempts, outcome }, 'job failed');
        if (outcome === 'dead') {
          await reportDead({ ...job, status: 'dead', lastError: errorText(error) });
        }
      } finally {
        running.delete(job.id);
        void pump();
      }
    })();
    running.set(job.id, { promise, abort, renew });
  }

  return {
    workerId,
    /** Jobs currently running in this worker. */
    get active() {
      return running.size;
    },

    async start(): Promise<void> {
      if (state !== 'idle') return;
      state = 'running';
      unlisten = await database.listen(JOBS_CHANNEL, (payload) => {
        if (payload === '' || payload === runnerId) void pump();
      });
      await pump();
    },

    /**
     * Stops claiming, lets running jobs finish for up to graceMs, then aborts the rest and hands
     * their leases back so another worker can run them at once.
     */
    async stop({ graceMs = 10_000 } = {}): Promise<void> {
      if (state === 'stopped' || state === 'idle') {
        state = 'stopped';
        return;
      }
      state = 'stopping';
      clearTimeout(timer);
      await unlisten?.().catch(() => {});
      // Jobs a claim in flight takes are started and get the same grace as the others.
      await pumped;
      const all = Promise.allSettled([...[...running.values()].map((r) => r.promise), ...reports]);
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        graceTimer = setTimeout(resolve, graceMs);
      });
      await Promise.race([all, grace]);
      clearTimeout(graceTimer);
      state = 'stopped';
      for (const r of running.values()) {
        // A handler that ignores its signal keeps running, but its lease is no longer renewed.
        clearInterval(r.renew);
        r.abort.abort(new Error('worker stopping'));
      }
      const released = await queue.releaseLeases(workerId).catch((error) => {
        log.error({ err: error, workerId }, 'could not release job leases; they will expire');
        return 0;
      });
      if (released > 0) log.info({ workerId, released }, 'released unfinished jobs');
    },
  };
}
