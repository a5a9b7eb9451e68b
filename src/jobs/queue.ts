import { and, asc, eq, inArray, isNull, lt, lte, notInArray, or, type SQL, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { type Job, jobs } from '../db/schema.js';
import { errorText } from '../serialize-error.js';

/** The NOTIFY channel that wakes workers; the payload is the addressed runner id, or empty. */
export const JOBS_CHANNEL = 'agent_orchestrator_jobs';

export interface NewJob {
  kind: string;
  payload?: Record<string, unknown>;
  /** Only this runner may claim it (the one holding the session's worktree). */
  runnerId?: string | null;
  sessionId?: string | null;
  /** Not before this time (default: now). */
  runAt?: Date;
  maxAttempts?: number;
}

export interface ClaimOptions {
  /** The lock owner; must be unique per worker. */
  workerId: string;
  /** The runner this worker belongs to: it may claim jobs addressed to it and unaddressed ones. */
  runnerId?: string | null;
  /** Only these kinds (the ones the worker can run). */
  kinds: readonly string[];
  /**
   * Kinds that run one at a time per session: a pending job of one of these kinds waits while
   * another of the same kind and session is running (status comment edits, so an older body
   * never lands after a newer one and a burst of edits holds one slot, not all of them).
   */
  onePerSession?: readonly string[];
  limit: number;
  /** Told of each job the claim found dead: its holder stopped during its last attempt. */
  onDead?: ((job: Job) => void) | undefined;
}

/** True unless the job is of one of `kinds` and another of its kind and session holds a lease. */
function notBehindSameSession(kinds: readonly string[]) {
  return or(
    isNull(jobs.sessionId),
    notInArray(jobs.kind, [...kinds]),
    sql`not exists (select 1 from ${jobs} as other where other.kind = ${jobs.kind} and other.session_id = ${jobs.sessionId} and other.status = 'running' and other.lease_expires_at > now() and other.id <> ${jobs.id})`,
  );
}

/** Attempts a job gets when its NewJob names none. */
const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * The job as a data-modifying CTE body that inserts one row per row of `source` (a CTE name) and
 * returns the runner it is addressed to: for queuing a job in the same statement as the change
 * that causes it (see recordDelivery). The caller notifies JOBS_CHANNEL in that statement too.
 */
export function insertJobFrom(source: string, job: NewJob): SQL {
  return sql`insert into ${jobs} (kind, payload, runner_id, session_id, max_attempts, run_at)
    select ${job.kind}, ${JSON.stringify(job.payload ?? {})}::jsonb, ${job.runnerId ?? null}, ${job.sessionId ?? null},
      ${job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}, coalesce(${job.runAt?.toISOString() ?? null}::timestamptz, now())
    from ${sql.identifier(source)}
    returning runner_id`;
}

export type FailOutcome = 'retry' | 'dead' | 'lost';

export interface JobQueueOptions {
  db: Db;
  /** How long a claim holds a job before another worker may take it (default 30 s). */
  leaseMs?: number;
  /** First retry delay; doubles each attempt (default 1 s). */
  backoffBaseMs?: number;
  /** Longest retry delay (default 5 min). */
  backoffMaxMs?: number;
}

export type JobQueue = ReturnType<typeof createJobQueue>;

/** A durable queue in Postgres: jobs commit or roll back with the state change that made them. */
export function createJobQueue({
  db,
  leaseMs = 30_000,
  backoffBaseMs = 1_000,
  backoffMaxMs = 300_000,
}: JobQueueOptions) {
  const lease = sql`now() + ${leaseMs} * interval '1 millisecond'`;
  const lockedBy = (job: Pick<Job, 'id'>, workerId: string) =>
    and(eq(jobs.id, job.id), eq(jobs.status, 'running'), eq(jobs.lockedBy, workerId));

  /** Retry delay after the given number of failed attempts. */
  function backoffMs(attempts: number): number {
    return Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  }

  return {
    leaseMs,
    backoffMs,

    /** Adds a job inside the caller's transaction; workers are woken when it commits. */
    async enqueue(tx: Executor, job: NewJob): Promise<Job> {
      const [row] = await tx
        .insert(jobs)
        .values({
          kind: job.kind,
          payload: job.payload ?? {},
          runnerId: job.runnerId ?? null,
          sessionId: job.sessionId ?? null,
          maxAttempts: job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          ...(job.runAt ? { runAt: job.runAt } : {}),
        })
        .returning();
      await tx.execute(sql`select pg_notify(${JOBS_CHANNEL}, ${job.runnerId ?? ''})`);
      return row!;
    },

    /**
     * Takes up to `limit` due jobs, including ones whose lease expired, without blocking on rows
     * other workers are taking. Jobs that exhausted their attempts while leased become `dead`.
     */
    async claim({
      workerId,
      runnerId = null,
      kinds,
      onePerSession = [],
      limit,
      onDead,
    }: ClaimOptions): Promise<Job[]> {
      if (limit <= 0 || kinds.length === 0) return [];
      const expired = and(eq(jobs.status, 'running'), lt(jobs.leaseExpiresAt, sql`now()`));
      const buried = await db
        .update(jobs)
        .set({
          status: 'dead',
          lockedBy: null,
          leaseExpiresAt: null,
          lastError: sql`'lease expired on attempt ' || ${jobs.attempts} || ' of ' || ${jobs.maxAttempts} || ' (the worker holding it stopped)'`,
          updatedAt: sql`now()`,
        })
        .where(and(expired, sql`${jobs.attempts} >= ${jobs.maxAttempts}`))
        .returning();
      for (const job of buried) onDead?.(job);

      const addressed = runnerId
        ? or(isNull(jobs.runnerId), eq(jobs.runnerId, runnerId))
        : isNull(jobs.runnerId);
      const due = db.$with('due').as(
        db
          .select({ id: jobs.id })
          .from(jobs)
          .where(
            and(
              or(
                and(eq(jobs.status, 'pending'), lte(jobs.runAt, sql`now()`)),
                // A lease may expire between the sweep above and this statement: never run a
                // job past its last attempt.
                and(expired, lt(jobs.attempts, jobs.maxAttempts)),
              ),
              addressed,
              inArray(jobs.kind, [...kinds]),
              onePerSession.length > 0 ? notBehindSameSession(onePerSession) : undefined,
            ),
          )
          .orderBy(asc(jobs.runAt), asc(jobs.id))
          .limit(limit)
          .for('update', { skipLocked: true }),
      );
      const claimed = await db
        .with(due)
        .update(jobs)
        .set({
          status: 'running',
          lockedBy: workerId,
          leaseExpiresAt: lease,
          attempts: sql`${jobs.attempts} + 1`,
          updatedAt: sql`now()`,
        })
        .where(inArray(jobs.id, db.select({ id: due.id }).from(due)))
        .returning();
      // The update returns rows in no particular order; hand them back in the order they were due.
      return claimed.sort((a, b) => a.runAt.getTime() - b.runAt.getTime() || a.id - b.id);
    },

    /** Marks a job done; false when this worker no longer holds it (its lease was taken over). */
    async complete(job: Pick<Job, 'id'>, workerId: string): Promise<boolean> {
      const rows = await db
        .update(jobs)
        .set({
          status: 'done',
          lockedBy: null,
          leaseExpiresAt: null,
          completedAt: sql`now()`,
          updatedAt: sql`now()`,
        })
        .where(lockedBy(job, workerId))
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    /** Records a failure: retried after a backoff, or `dead` once attempts run out (or `permanent`). */
    async fail(
      job: Pick<Job, 'id' | 'attempts' | 'maxAttempts'>,
      workerId: string,
      error: unknown,
      { permanent = false } = {},
    ): Promise<FailOutcome> {
      const lastError = errorText(error);
      const dead = permanent || job.attempts >= job.maxAttempts;
      const rows = await db
        .update(jobs)
        .set(
          dead
            ? {
                status: 'dead',
                lockedBy: null,
                leaseExpiresAt: null,
                lastError,
                updatedAt: sql`now()`,
              }
            : {
                status: 'pending',
                lockedBy: null,
                leaseExpiresAt: null,
                lastError,
                runAt: sql`now() + ${backoffMs(job.attempts)} * interval '1 millisecond'`,
                updatedAt: sql`now()`,
              },
        )
        .where(lockedBy(job, workerId))
        .returning({ id: jobs.id });
      if (rows.length === 0) return 'lost';
      return dead ? 'dead' : 'retry';
    },

    /** Pushes the lease forward for a long job; false when this worker lost it. */
    async extendLease(job: Pick<Job, 'id'>, workerId: string): Promise<boolean> {
      const rows = await db
        .update(jobs)
        .set({ leaseExpiresAt: lease, updatedAt: sql`now()` })
        .where(lockedBy(job, workerId))
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    /**
     * Hands back every job this worker holds so another can run it at once (graceful shutdown).
     * The interrupted attempt does not count against the job.
     */
    async releaseLeases(workerId: string): Promise<number> {
      const rows = await db
        .update(jobs)
        .set({
          status: 'pending',
          lockedBy: null,
          leaseExpiresAt: null,
          attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
          runAt: sql`now()`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(jobs.status, 'running'), eq(jobs.lockedBy, workerId)))
        .returning({ id: jobs.id });
      return rows.length;
    },

    /**
     * When the earliest job this worker could take becomes claimable, if any: a pending job's
     * run_at, or a running job's lease expiry (its holder may have died).
     */
    async nextRunAt(
      runnerId: string | null,
      kinds: readonly string[],
      onePerSession: readonly string[] = [],
    ): Promise<Date | null> {
      const addressed = runnerId
        ? or(isNull(jobs.runnerId), eq(jobs.runnerId, runnerId))
        : isNull(jobs.runnerId);
      const [row] = await db
        .select({
          at: sql<Date | null>`min(case when ${jobs.status} = 'pending' then ${jobs.runAt} else ${jobs.leaseExpiresAt} end)`.mapWith(
            jobs.runAt,
          ),
        })
        .from(jobs)
        .where(
          and(
            inArray(jobs.status, ['pending', 'running']),
            addressed,
            inArray(jobs.kind, [...kinds]),
            // A job waiting behind its session's running one is due when that one ends (the
            // worker looks again then) or its lease expires (counted here by the running row).
            onePerSession.length > 0 ? notBehindSameSession(onePerSession) : undefined,
          ),
        );
      return row?.at ?? null;
    },
  };
}
