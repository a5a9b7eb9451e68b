/**
 * The questions asked of the sessions table: the live session of an issue, a pull request or a
 * branch, the sessions on a commit. Shared by github/ (which session a webhook is about) and
 * runner/ (what to run), so neither asks the database itself. Reads only; writes go through
 * the session service.
 */
import { and, desc, eq, gte, inArray, isNotNull, notInArray, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { type Session, sessionEvents, sessions, TERMINAL_SESSION_STATUSES } from '../db/schema.js';
import { type DeadJob, deadJobSchema, JOB_DEAD_EVENT } from './dead-job.js';
import type { DailySpend } from './lifecycle-event.js';
import { dailySpend } from './spend-store.js';

const LIVE = notInArray(sessions.status, [...TERMINAL_SESSION_STATUSES]);

export type SessionStore = ReturnType<typeof createSessionStore>;

export function createSessionStore(db: Db) {
  async function newestLive(where: SQL | undefined): Promise<Session | undefined> {
    const [row] = await db
      .select()
      .from(sessions)
      .where(and(where, LIVE))
      .orderBy(desc(sessions.createdAt))
      .limit(1);
    return row;
  }

  return {
    async find(id: string): Promise<Session | undefined> {
      const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
      return row;
    },

    liveOnIssue: (repositoryId: number, issueNumber: number) =>
      newestLive(
        and(eq(sessions.repositoryId, repositoryId), eq(sessions.issueNumber, issueNumber)),
      ),

    liveOnPullRequest: (repositoryId: number, prNumber: number) =>
      newestLive(and(eq(sessions.repositoryId, repositoryId), eq(sessions.prNumber, prNumber))),

    liveOnBranch: (repositoryId: number, branch: string) =>
      newestLive(and(eq(sessions.repositoryId, repositoryId), eq(sessions.branch, branch))),

    /** The newest session of the issue, live or ended (what `/agent retry` starts again). */
    async latestOnIssue(repositoryId: number, issueNumber: number): Promise<Session | undefined> {
      const [row] = await db
        .select()
        .from(sessions)
        .where(and(eq(sessions.repositoryId, repositoryId), eq(sessions.issueNumber, issueNumber)))
        .orderBy(desc(sessions.createdAt))
        .limit(1);
      return row;
    },

    /**
     * Sessions a CI result is about, live or ended (an ended one records that it ignored it):
     * those on the commit, and those of the pull requests GitHub links to it.
     */
    onCommit(repositoryId: number, headSha: string, prNumbers: number[]) {
      const ofPullRequests = prNumbers.length
        ? and(inArray(sessions.prNumber, prNumbers), isNotNull(sessions.headSha))
        : undefined;
      return db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.repositoryId, repositoryId),
            or(eq(sessions.headSha, headSha), ofPullRequests),
          ),
        );
    },

    /** Live sessions with a pull request against the branch (checked for conflicts on a push). */
    liveWithPullRequestOn: (repositoryId: number, baseBranch: string, limit: number) =>
      db
        .select()
        .from(sessions)
        .where(
          and(
            eq(sessions.repositoryId, repositoryId),
            eq(sessions.baseBranch, baseBranch),
            isNotNull(sessions.prNumber),
            LIVE,
          ),
        )
        .limit(limit),

    async liveCount(repositoryId: number): Promise<number> {
      const rows = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(eq(sessions.repositoryId, repositoryId), LIVE));
      return rows.length;
    },

    /** Of these ids, the sessions that are still live. */
    async liveAmong(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db
        .select({ id: sessions.id })
        .from(sessions)
        .where(and(inArray(sessions.id, ids), LIVE));
      return new Set(rows.map((r) => r.id));
    },

    /** Whether this delivery created the session (a retried start finds its own session). */
    async createdBy(sessionId: string, deliveryId: string): Promise<boolean> {
      const [row] = await db
        .select({ id: sessionEvents.id })
        .from(sessionEvents)
        .where(
          and(
            eq(sessionEvents.sessionId, sessionId),
            eq(sessionEvents.kind, 'created'),
            eq(sessionEvents.deliveryId, deliveryId),
          ),
        );
      return Boolean(row);
    },

    /** The agent's last result event of a turn (an adopted turn's may predate a restart). */
    async lastAgentResult(sessionId: string, turnNumber: number) {
      const [row] = await db
        .select()
        .from(sessionEvents)
        .where(
          and(
            eq(sessionEvents.sessionId, sessionId),
            eq(sessionEvents.kind, 'agent.result'),
            sql`(${sessionEvents.data}->>'turn')::int = ${turnNumber}`,
          ),
        )
        .orderBy(desc(sessionEvents.id))
        .limit(1);
      return row?.data;
    },

    /** Today's spend (UTC) of a repository and an installation, for their daily budgets. */
    spentToday: (
      where: { repositoryId: number; installationId: number | null },
      now: Date,
    ): Promise<DailySpend> => dailySpend(db, where, now),

    /** The last reaction the session recorded, for its status comment. */
    async lastReaction(sessionId: string): Promise<{ key: string; action: string } | undefined> {
      const [row] = await db
        .select()
        .from(sessionEvents)
        .where(and(eq(sessionEvents.sessionId, sessionId), eq(sessionEvents.kind, 'reaction')))
        .orderBy(desc(sessionEvents.id))
        .limit(1);
      return row ? { key: String(row.data.key), action: String(row.data.action) } : undefined;
    },

    /**
     * The newest job of the session that gave up since the session last changed, for its status
     * comment: once the session moves on, only its timeline keeps saying so.
     */
    async deadJobSince(session: Pick<Session, 'id' | 'updatedAt'>): Promise<DeadJob | undefined> {
      const [row] = await db
        .select({ data: sessionEvents.data })
        .from(sessionEvents)
        .where(
          and(
            eq(sessionEvents.sessionId, session.id),
            eq(sessionEvents.kind, JOB_DEAD_EVENT),
            gte(sessionEvents.createdAt, session.updatedAt),
          ),
        )
        .orderBy(desc(sessionEvents.id))
        .limit(1);
      const parsed = deadJobSchema.safeParse(row?.data);
      return parsed.success ? parsed.data : undefined;
    },
  };
}
