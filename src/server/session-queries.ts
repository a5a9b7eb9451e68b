import { and, asc, desc, eq, gt, inArray, lt, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import {
  SESSION_STATUSES,
  type Session,
  type SessionEvent,
  type SessionMessage,
  sessionEvents,
  sessionMessages,
  sessions,
  type Turn,
  turns,
} from '../db/schema.js';

/** Filters and paging of a sessions list, as the JSON API and the dashboard take them. */
export const sessionListQuery = z.object({
  repository: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name')
    .optional(),
  status: z.enum(SESSION_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The `nextCursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^\d+:s-[a-z0-9]+$/, 'a cursor from a previous page')
    .optional(),
});
export type SessionListQuery = z.infer<typeof sessionListQuery>;

export interface SessionPage {
  sessions: Session[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Newest first, filtered, one page at a time (created-at and id break ties, so none repeat). */
export async function listSessions(db: Db, query: SessionListQuery): Promise<SessionPage> {
  const where: SQL[] = [];
  if (query.repository) where.push(eq(sessions.repositoryFullName, query.repository));
  if (query.status) where.push(eq(sessions.status, query.status));
  if (query.cursor) {
    const [millis, id] = query.cursor.split(':') as [string, string];
    const at = new Date(Number(millis));
    where.push(
      or(lt(sessions.createdAt, at), and(eq(sessions.createdAt, at), lt(sessions.id, id)))!,
    );
  }
  const rows = await db
    .select()
    .from(sessions)
    .where(and(...where))
    .orderBy(desc(sessions.createdAt), desc(sessions.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > query.limit && last ? `${last.createdAt.getTime()}:${last.id}` : null;
  return { sessions: page, nextCursor };
}

/** True when the session belongs in a list with these filters. */
export function matchesFilters(
  session: Session,
  query: Pick<SessionListQuery, 'repository' | 'status'>,
): boolean {
  return (
    (!query.repository || session.repositoryFullName === query.repository) &&
    (!query.status || session.status === query.status)
  );
}

/** The newest event of each session, by session id. */
export async function lastEvents(db: Db, ids: string[]): Promise<Map<string, SessionEvent>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectDistinctOn([sessionEvents.sessionId])
    .from(sessionEvents)
    .where(inArray(sessionEvents.sessionId, ids))
    .orderBy(sessionEvents.sessionId, desc(sessionEvents.id));
  return new Map(rows.map((e) => [e.sessionId, e]));
}

/** Every repository that has had a session, for the filter. */
export async function repositoriesWithSessions(db: Db): Promise<string[]> {
  const rows = await db
    .selectDistinct({ name: sessions.repositoryFullName })
    .from(sessions)
    .orderBy(asc(sessions.repositoryFullName));
  return rows.map((r) => r.name);
}

export async function findSession(db: Db, id: string): Promise<Session | undefined> {
  const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
  return row;
}

/** Sessions by id, e.g. the ones a change touched. */
export async function sessionsById(db: Db, ids: string[]): Promise<Session[]> {
  if (ids.length === 0) return [];
  return db.select().from(sessions).where(inArray(sessions.id, ids));
}

/** The session's latest events (up to limit) after an event id, in order. */
export async function eventsOf(
  db: Db,
  sessionId: string,
  { after = 0, limit = 500 }: { after?: number; limit?: number } = {},
): Promise<SessionEvent[]> {
  const rows = await db
    .select()
    .from(sessionEvents)
    .where(and(eq(sessionEvents.sessionId, sessionId), gt(sessionEvents.id, after)))
    .orderBy(desc(sessionEvents.id))
    .limit(limit);
  return rows.reverse();
}

/** The messages sent to the session's agent, oldest first; turnId tells which are delivered. */
export async function messagesOf(db: Db, sessionId: string): Promise<SessionMessage[]> {
  return db
    .select()
    .from(sessionMessages)
    .where(eq(sessionMessages.sessionId, sessionId))
    .orderBy(asc(sessionMessages.id));
}

/** The session's turns, oldest first. */
export async function turnsOf(db: Db, sessionId: string): Promise<Turn[]> {
  return db.select().from(turns).where(eq(turns.sessionId, sessionId)).orderBy(asc(turns.number));
}
