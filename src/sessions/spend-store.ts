/**
 * What was spent, from the turns: today's (UTC) turns and cost of a repository or installation,
 * for the budgets, and a repository's spend per day, for the dashboard.
 */
import { and, eq, gte, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { sessions, turns } from '../db/schema.js';
import { utcDayStart } from './budget.js';
import type { DailySpend } from './lifecycle-event.js';

async function spentSince(
  db: Executor,
  where: ReturnType<typeof eq>,
  since: Date,
): Promise<{ costUsd: number; turns: number }> {
  const [row] = await db
    .select({
      turns: sql<number>`count(*)::int`,
      costUsd: sql<number>`coalesce(sum(${turns.costUsd}), 0)::float8`,
    })
    .from(turns)
    .innerJoin(sessions, eq(sessions.id, turns.sessionId))
    .where(and(where, gte(turns.startedAt, since)));
  return { turns: Number(row?.turns ?? 0), costUsd: Number(row?.costUsd ?? 0) };
}

/** Today's spend (UTC) of a repository and of an installation, every session's turns. */
export async function dailySpend(
  db: Executor,
  session: { repositoryId: number; installationId: number | null },
  now: Date,
): Promise<DailySpend> {
  const since = utcDayStart(now);
  const repositoryToday = await spentSince(
    db,
    eq(sessions.repositoryId, session.repositoryId),
    since,
  );
  const installationToday =
    session.installationId === null
      ? { costUsd: 0, turns: 0 }
      : await spentSince(db, eq(sessions.installationId, session.installationId), since);
  return { repositoryToday, installationToday };
}

/** A repository's spend per UTC day over the last `days` days (today last), zero-filled. */
export async function spendPerDay(
  db: Executor,
  repositoryId: number,
  days: number,
  now: Date,
): Promise<{ day: string; costUsd: number; turns: number }[]> {
  const first = new Date(utcDayStart(now).getTime() - (days - 1) * 86_400_000);
  const day = sql<string>`to_char(${turns.startedAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const rows = await db
    .select({
      day,
      turns: sql<number>`count(*)::int`,
      costUsd: sql<number>`coalesce(sum(${turns.costUsd}), 0)::float8`,
    })
    .from(turns)
    .innerJoin(sessions, eq(sessions.id, turns.sessionId))
    .where(and(eq(sessions.repositoryId, repositoryId), gte(turns.startedAt, first)))
    .groupBy(day);
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return Array.from({ length: days }, (_, i) => {
    const date = new Date(first.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    const row = byDay.get(date);
    return { day: date, costUsd: Number(row?.costUsd ?? 0), turns: Number(row?.turns ?? 0) };
  });
}
