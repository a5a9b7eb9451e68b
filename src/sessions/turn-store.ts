/**
 * The turns of a session and the messages they deliver: what the state machine is told when it
 * chooses a turn, and the turn rows the runner updates as the agent runs.
 */
import { and, asc, desc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../db/client.js';
import { sessionMessages, type Turn, turns } from '../db/schema.js';
import type { TurnFacts } from './lifecycle-event.js';

export async function turnFacts(db: Executor, sessionId: string): Promise<TurnFacts> {
  const [unfinished] = await db
    .select()
    .from(turns)
    .where(and(eq(turns.sessionId, sessionId), ne(turns.status, 'finished')));
  const [last] = await db
    .select({ number: turns.number })
    .from(turns)
    .where(eq(turns.sessionId, sessionId))
    .orderBy(desc(turns.number))
    .limit(1);
  const pending = await pendingMessages(db, sessionId);
  return { unfinished: unfinished ?? null, last: last?.number ?? null, pending };
}

/** Messages queued for the agent and not yet delivered, oldest first. */
function pendingMessages(db: Executor, sessionId: string) {
  return db
    .select()
    .from(sessionMessages)
    .where(and(eq(sessionMessages.sessionId, sessionId), isNull(sessionMessages.turnId)))
    .orderBy(asc(sessionMessages.id));
}

/** The messages a turn delivers, in order (to write its message file again after a crash). */
export function messagesOfTurn(db: Executor, turnId: number) {
  return db
    .select()
    .from(sessionMessages)
    .where(eq(sessionMessages.turnId, turnId))
    .orderBy(asc(sessionMessages.id));
}

export async function unfinishedTurn(db: Executor, sessionId: string): Promise<Turn | undefined> {
  const [row] = await db
    .select()
    .from(turns)
    .where(and(eq(turns.sessionId, sessionId), ne(turns.status, 'finished')));
  return row;
}

/** The agent's processes started: their handle finds them again after a restart. */
export async function markTurnRunning(db: Executor, turnId: number, handle: object) {
  await db
    .update(turns)
    .set({ status: 'running', handle: handle as Record<string, unknown> })
    .where(eq(turns.id, turnId));
}

/** Bytes of the turn's log already recorded as events. */
export async function saveTurnOffset(db: Executor, turnId: number, offset: number) {
  await db.update(turns).set({ logOffset: offset }).where(eq(turns.id, turnId));
}

/**
 * Marks the turn finished, once: the process that does it gets the row back (and counts the
 * turn); any other gets undefined.
 */
export async function finishTurn(
  db: Executor,
  turnId: number,
  result: {
    exitCode: number | null;
    outcome: string;
    summary?: string | null | undefined;
    costUsd?: number | undefined;
  },
) {
  const [row] = await db
    .update(turns)
    .set({
      status: 'finished',
      exitCode: result.exitCode,
      outcome: result.outcome,
      summary: result.summary ?? null,
      costUsd: result.costUsd ?? 0,
      endedAt: sql`now()`,
    })
    .where(and(eq(turns.id, turnId), ne(turns.status, 'finished')))
    .returning({ startedAt: turns.startedAt, endedAt: turns.endedAt });
  return row;
}
