import { and, eq, inArray, max, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs, type Session, sessions, turns } from '../db/schema.js';
import { JOB_KINDS } from './job-kinds.js';

const RUNS_A_SESSION = [JOB_KINDS.spawn, JOB_KINDS.turn, JOB_KINDS.stop];

export interface WorkingSession {
  session: Session;
  /** Its spawn, turn and stop jobs queued or running. */
  liveJobs: number;
  /** The latest of its last write and its last turn's start or end. */
  lastActivityAt: Date;
}

/** The sessions `working` on a runner, with what tells whether anything still runs them. */
export async function workingSessionsOn(db: Db, runnerId: string): Promise<WorkingSession[]> {
  const working = await db
    .select()
    .from(sessions)
    .where(and(eq(sessions.status, 'working'), eq(sessions.runnerId, runnerId)));
  if (working.length === 0) return [];
  const ids = working.map((s) => s.id);
  const live = await db
    .select({ sessionId: jobs.sessionId, count: sql<number>`count(*)::int` })
    .from(jobs)
    .where(
      and(
        inArray(jobs.sessionId, ids),
        inArray(jobs.kind, RUNS_A_SESSION),
        inArray(jobs.status, ['pending', 'running']),
      ),
    )
    .groupBy(jobs.sessionId);
  const lastTurns = await db
    .select({
      sessionId: turns.sessionId,
      startedAt: max(turns.startedAt),
      endedAt: max(turns.endedAt),
    })
    .from(turns)
    .where(inArray(turns.sessionId, ids))
    .groupBy(turns.sessionId);
  const jobsOf = new Map(live.map((row) => [row.sessionId, Number(row.count)]));
  const turnOf = new Map(lastTurns.map((row) => [row.sessionId, row]));
  return working.map((session) => {
    const turn = turnOf.get(session.id);
    const times = [session.updatedAt, turn?.startedAt, turn?.endedAt]
      .filter((t): t is Date => t instanceof Date || typeof t === 'string')
      .map((t) => new Date(t).getTime());
    return {
      session,
      liveJobs: jobsOf.get(session.id) ?? 0,
      lastActivityAt: new Date(Math.max(...times)),
    };
  });
}
