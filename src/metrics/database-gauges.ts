import { count, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { JOB_STATUSES, jobs, SESSION_STATUSES, sessions } from '../db/schema.js';
import type { OperatorLimits } from '../limits-config.js';
import {
  type BudgetMetrics,
  clearBudgetGauges,
  readBudgets,
  setBudgetGauges,
} from './budget-gauges.js';
import type { Metrics } from './metrics.js';

type GaugeMetrics = Pick<Metrics, 'sessions' | 'jobs' | 'jobsRetrying' | 'databaseUp'> &
  BudgetMetrics;

/** What the budget gauges need besides the database: the operator's limits, and today. */
export interface BudgetSource {
  limits: OperatorLimits;
  /** The clock that says which UTC day is today. */
  today: () => Date;
}

/** A scrape answers within this even when the database does not. */
const DATABASE_TIMEOUT_MS = 2_000;
/** Scrapes within this of a read show that read's counts. */
export const GAUGE_CACHE_MS = 10_000;

export interface GaugeCacheOptions {
  /** How long one read serves (default GAUGE_CACHE_MS; 0 reads on every scrape). */
  ms?: number | undefined;
  now?: (() => number) | undefined;
}

/**
 * The database gauges, read again only when the last read began more than the cache window
 * ago; scrapes that arrive together share one read. A failed read is kept as long, so a
 * struggling database is not asked again on every scrape.
 */
export function createDatabaseGauges({
  metrics,
  database,
  log,
  budgets,
  ms = GAUGE_CACHE_MS,
  now = Date.now,
}: {
  metrics: GaugeMetrics;
  database: Database;
  log: Logger;
  budgets: BudgetSource;
} & GaugeCacheOptions) {
  let last: { at: number; read: Promise<void> } | undefined;
  return {
    refresh(): Promise<void> {
      const at = now();
      if (!last || at - last.at >= ms) {
        last = { at, read: readDatabaseGauges(metrics, database, log, budgets) };
      }
      return last.read;
    },
  };
}

/**
 * Sets the sessions and jobs gauges (with the retrying jobs) from one grouped query each, and the budget and guard
 * gauges from theirs (budget-gauges.ts). When the database does not answer in time, they are
 * left out and `database_up` is 0: the rest of the scrape still works.
 */
export async function readDatabaseGauges(
  metrics: GaugeMetrics,
  database: Database,
  log: Logger,
  budgets: BudgetSource,
  timeoutMs = DATABASE_TIMEOUT_MS,
): Promise<void> {
  const { db } = database;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the database did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const [sessionRows, jobRows, budgetReading] = await Promise.race([
      Promise.all([
        db.select({ status: sessions.status, n: count() }).from(sessions).groupBy(sessions.status),
        db
          .select({
            kind: jobs.kind,
            state: jobs.status,
            n: count(),
            // Pending after a failure: waiting out a backoff before another attempt.
            retrying: count(
              sql`case when ${jobs.status} = 'pending' and ${jobs.attempts} > 0 then 1 end`,
            ),
          })
          .from(jobs)
          .groupBy(jobs.kind, jobs.status),
        readBudgets(db, budgets.limits, budgets.today()),
      ]),
      timeout,
    ]);
    // Every status and state shows, 0 when empty, so a query for one always has a series.
    metrics.sessions.reset();
    for (const status of SESSION_STATUSES) metrics.sessions.set({ status }, 0);
    for (const row of sessionRows) metrics.sessions.set({ status: row.status }, row.n);
    metrics.jobs.reset();
    metrics.jobsRetrying.reset();
    for (const kind of new Set(jobRows.map((row) => row.kind))) {
      for (const state of JOB_STATUSES) metrics.jobs.set({ kind, state }, 0);
      metrics.jobsRetrying.set({ kind }, 0);
    }
    for (const row of jobRows) {
      metrics.jobs.set({ kind: row.kind, state: row.state }, row.n);
      if (row.retrying > 0) metrics.jobsRetrying.set({ kind: row.kind }, row.retrying);
    }
    setBudgetGauges(metrics, budgetReading);
    metrics.databaseUp.set(1);
  } catch (error) {
    metrics.sessions.reset();
    metrics.jobs.reset();
    metrics.jobsRetrying.reset();
    clearBudgetGauges(metrics);
    metrics.databaseUp.set(0);
    log.warn(
      { err: error },
      'metrics: the database did not answer; sessions, jobs and budgets left out',
    );
  } finally {
    clearTimeout(timer);
  }
}
