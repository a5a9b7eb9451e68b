import { count, desc, eq, gte, inArray, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sessionEvents, sessions, TERMINAL_SESSION_STATUSES, turns } from '../db/schema.js';
import type { DailyBudget, OperatorLimits } from '../limits-config.js';
import { effectiveLimits, utcDayStart } from '../sessions/budget.js';
import { configOf } from '../sessions/session-context.js';
import type { Metrics } from './metrics.js';

export type BudgetMetrics = Pick<Metrics, 'budgetUsed' | 'budgetRemaining' | 'guardTrips'>;

/** The kinds of guard trips that always have a series (0 until one trips). */
export const GUARD_TRIP_KINDS = [
  'no-change',
  'automated',
  'same-ci-failure',
  'reconcile',
  'budget-session',
  'budget-repository',
  'budget-installation',
] as const;

export interface RepositoryBudget {
  repositoryId: number;
  today: { turns: number; costUsd: number };
  /** Its daily limits: the operator's, lowered by its config as of its newest session. */
  limits: DailyBudget;
}

export interface BudgetReading {
  repositories: RepositoryBudget[];
  trips: Map<string, number>;
}

// A label value from a guard's name in the database: ours, but bounded all the same.
const GUARD_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const SCOPES = new Set(['session', 'repository', 'installation']);

/** What a `guard` or `budget` event counts as; a budget without a scope is the session's own. */
export function tripKind(kind: string, guard: string | null, scope: string | null): string {
  if (kind === 'guard') return guard && GUARD_NAME.test(guard) ? guard : 'other';
  const of = scope ?? 'session';
  return SCOPES.has(of) ? `budget-${of}` : 'budget-other';
}

/**
 * Three grouped queries: the newest session of each repository with a session active today
 * (not ended, or changed today), today's turns and cost per repository, and the guard trips.
 */
export async function readBudgets(
  db: Db,
  operator: OperatorLimits,
  now: Date,
): Promise<BudgetReading> {
  const since = utcDayStart(now);
  const activeToday = db
    .select({ id: sessions.repositoryId })
    .from(sessions)
    .where(
      or(
        notInArray(sessions.status, [...TERMINAL_SESSION_STATUSES]),
        gte(sessions.updatedAt, since),
      ),
    );
  const guard = sql<string | null>`${sessionEvents.data}->>'guard'`;
  const scope = sql<string | null>`${sessionEvents.data}->>'scope'`;
  const [newest, spent, events] = await Promise.all([
    db
      .selectDistinctOn([sessions.repositoryId], {
        repositoryId: sessions.repositoryId,
        context: sessions.context,
      })
      .from(sessions)
      .where(inArray(sessions.repositoryId, activeToday))
      .orderBy(sessions.repositoryId, desc(sessions.createdAt), desc(sessions.id)),
    db
      .select({
        repositoryId: sessions.repositoryId,
        turns: count(),
        costUsd: sql<number>`coalesce(sum(${turns.costUsd}), 0)::float8`,
      })
      .from(turns)
      .innerJoin(sessions, eq(sessions.id, turns.sessionId))
      .where(gte(turns.startedAt, since))
      .groupBy(sessions.repositoryId),
    db
      .select({
        kind: sessionEvents.kind,
        guard,
        scope,
        n: count(),
      })
      .from(sessionEvents)
      .where(inArray(sessionEvents.kind, ['guard', 'budget']))
      .groupBy(sessionEvents.kind, guard, scope),
  ]);
  const today = new Map(spent.map((row) => [Number(row.repositoryId), row]));
  const trips = new Map<string, number>(GUARD_TRIP_KINDS.map((kind) => [kind, 0]));
  for (const row of events) {
    const kind = tripKind(row.kind, row.guard, row.scope);
    trips.set(kind, (trips.get(kind) ?? 0) + Number(row.n));
  }
  return {
    repositories: newest.map((row) => {
      const spentToday = today.get(Number(row.repositoryId));
      return {
        repositoryId: Number(row.repositoryId),
        today: { turns: Number(spentToday?.turns ?? 0), costUsd: Number(spentToday?.costUsd ?? 0) },
        limits: effectiveLimits(operator, configOf(row).limits).perRepositoryPerDay,
      };
    }),
    trips,
  };
}

/** Sets the gauges from a reading: used always, remaining only where a limit is set. */
export function setBudgetGauges(metrics: BudgetMetrics, reading: BudgetReading): void {
  clearBudgetGauges(metrics);
  for (const { repositoryId, today, limits } of reading.repositories) {
    const repository_id = String(repositoryId);
    const resources = [
      { resource: 'turns', used: today.turns, limit: limits.turns },
      { resource: 'cost_usd', used: today.costUsd, limit: limits.costUsd },
    ];
    for (const { resource, used, limit } of resources) {
      const labels = { repository_id, resource, window: 'day' };
      metrics.budgetUsed.set(labels, used);
      if (limit !== undefined) metrics.budgetRemaining.set(labels, Math.max(0, limit - used));
    }
  }
  for (const [kind, n] of reading.trips) metrics.guardTrips.set({ kind }, n);
}

export function clearBudgetGauges(metrics: BudgetMetrics): void {
  metrics.budgetUsed.reset();
  metrics.budgetRemaining.reset();
  metrics.guardTrips.reset();
}
