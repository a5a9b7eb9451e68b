import { desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type Session, sessions } from '../db/schema.js';
import type { DailyBudget, OperatorLimits } from '../limits-config.js';
import { effectiveLimits, type SessionLimits } from '../sessions/budget.js';
import { configOf } from '../sessions/session-context.js';
import { spendPerDay } from '../sessions/spend-store.js';

/** How many UTC days the dashboard's spend chart shows, today last. */
export const SPEND_CHART_DAYS = 14;

export interface DaySpend {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  costUsd: number;
  turns: number;
}

export interface RepositorySpend {
  repositoryId: number;
  name: string;
  /** The daily limits: the operator's, lowered by the repository's config of its newest session. */
  limits: DailyBudget;
  /** When that session was created: the limits are as of then. */
  limitsAsOf: Date;
  /** One per UTC day, oldest first; the last is today. */
  days: DaySpend[];
}

/** The limits a session works under: the operator's, lowered by its repository's config. */
export function sessionLimits(
  operator: OperatorLimits,
  session: Pick<Session, 'context'>,
): SessionLimits {
  return effectiveLimits(operator, configOf(session).limits);
}

/**
 * Each repository with sessions (or only the one named), by name: its spend per UTC day over
 * the last `days` days and its daily limits as of its newest session, whose config is the
 * repository's `.github/agent.yml` when that session was triggered.
 */
export async function repositorySpend(
  db: Db,
  operator: OperatorLimits,
  filter: { repository?: string | undefined },
  now: Date,
  days = SPEND_CHART_DAYS,
): Promise<RepositorySpend[]> {
  const newest = await db
    .selectDistinctOn([sessions.repositoryId], {
      repositoryId: sessions.repositoryId,
      name: sessions.repositoryFullName,
      context: sessions.context,
      createdAt: sessions.createdAt,
    })
    .from(sessions)
    .where(filter.repository ? eq(sessions.repositoryFullName, filter.repository) : undefined)
    .orderBy(sessions.repositoryId, desc(sessions.createdAt), desc(sessions.id));
  const spend = await Promise.all(
    newest.map(async (row) => ({
      repositoryId: row.repositoryId,
      name: row.name,
      limits: sessionLimits(operator, row).perRepositoryPerDay,
      limitsAsOf: row.createdAt,
      days: await spendPerDay(db, row.repositoryId, days, now),
    })),
  );
  return spend.sort((a, b) => a.name.localeCompare(b.name) || a.repositoryId - b.repositoryId);
}
