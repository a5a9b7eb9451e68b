import type { Executor } from '../db/client.js';
import { sessionEvents } from '../db/schema.js';
import type { Transition } from './lifecycle-event.js';

/**
 * Rows per INSERT. Each event row is four parameters and Postgres takes at most 65,535 in one
 * statement; smaller statements also keep drizzle's query building shallow.
 */
export const EVENTS_PER_INSERT = 1_000;

/** Adds events to a session's timeline, in order, a thousand rows a statement. */
export async function recordEvents(
  tx: Executor,
  sessionId: string,
  events: Transition['record'],
  deliveryId?: string,
): Promise<void> {
  for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
    const rows = events
      .slice(start, start + EVENTS_PER_INSERT)
      .map((e) => ({ sessionId, ...e, deliveryId: deliveryId ?? null }));
    await tx.insert(sessionEvents).values(rows);
  }
}
