/**
 * The timeline's share of a turn's output: past a cap the runner stops adding an event a line and
 * keeps one event counting the lines left out, updated in place.
 */
import { and, desc, eq, like, notInArray, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { sessionEvents } from '../db/schema.js';

const ALWAYS_RECORDED = ['agent.result', 'agent.session'];

/** Writes the event counting a turn's omitted lines: inserted the first time, then updated. */
export async function saveOmittedLines(
  db: Executor,
  sessionId: string,
  eventId: number | undefined,
  data: Record<string, unknown>,
): Promise<number> {
  if (eventId !== undefined) {
    await db.update(sessionEvents).set({ data }).where(eq(sessionEvents.id, eventId));
    return eventId;
  }
  const [row] = await db
    .insert(sessionEvents)
    .values({ sessionId, kind: 'agent.text', data })
    .returning({ id: sessionEvents.id });
  return row!.id;
}

/** What a turn's output has put on the timeline so far (read when a turn is followed again). */
export async function turnOutputSoFar(
  db: Executor,
  sessionId: string,
  turn: number,
): Promise<{ recorded: number; omittedLines: number; omittedEventId: number | undefined }> {
  const ofTurn = and(
    eq(sessionEvents.sessionId, sessionId),
    like(sessionEvents.kind, 'agent.%'),
    notInArray(sessionEvents.kind, ALWAYS_RECORDED),
    sql`(${sessionEvents.data}->>'turn')::int = ${turn}`,
  );
  const omittedLines = sql<string | null>`${sessionEvents.data}->>'omittedLines'`;
  const [counted] = await db
    .select({ recorded: sql<number>`count(*)::int` })
    .from(sessionEvents)
    .where(and(ofTurn, sql`${omittedLines} is null`));
  const [omitted] = await db
    .select({ id: sessionEvents.id, lines: omittedLines })
    .from(sessionEvents)
    .where(and(ofTurn, sql`${omittedLines} is not null`))
    .orderBy(desc(sessionEvents.id))
    .limit(1);
  return {
    recorded: Number(counted?.recorded ?? 0),
    omittedLines: Number(omitted?.lines ?? 0),
    omittedEventId: omitted?.id,
  };
}
