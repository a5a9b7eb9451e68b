import { gt } from 'drizzle-orm';
import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { streamSSE } from 'hono/streaming';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.js';
import { sessions } from '../../db/schema.js';
import type { OperatorLimits } from '../../limits-config.js';
import {
  lastEvents,
  matchesFilters,
  type SessionListQuery,
  sessionsById,
} from '../session-queries.js';
import type { LiveFeed } from './live-feed.js';
import { followLiveFeed, updateChain } from './live-stream.js';
import { SessionRow } from './views/parts.js';

export interface StreamDeps {
  database: Database;
  liveFeed: LiveFeed;
  githubUrl: string;
  log: Logger;
  now: () => Date;
  /** The operator's limits, for a session's budget in its summary. */
  limits: OperatorLimits;
}

/** How far back `since` reaches, so that nothing changed while a page travels is missed. */
export const SINCE_MARGIN_MS = 5_000;

/** A rendered fragment as text (every component here renders synchronously). */
export async function render(element: JSX.Element): Promise<string> {
  return String(await element);
}

/**
 * The sessions table's stream: each session that changes (or gets an event) is sent as its
 * rendered row, with whether it still matches the page's filters. `since` (milliseconds) first
 * sends the sessions updated after it, covering the time between rendering the page (or the
 * last message before a reconnect) and opening the stream; sending a row twice does no harm.
 */
export function streamSessionList(
  c: Context,
  deps: StreamDeps,
  filters: Pick<SessionListQuery, 'repository' | 'status'>,
  since: number | undefined,
) {
  const { db } = deps.database;
  return streamSSE(c, async (stream) => {
    const sendRows = async (ids: string[]) => {
      const rows = await sessionsById(db, ids);
      const lasts = await lastEvents(db, ids);
      const now = deps.now();
      for (const session of rows) {
        const html = await render(
          <SessionRow
            session={session}
            last={lasts.get(session.id)}
            githubUrl={deps.githubUrl}
            now={now}
          />,
        );
        await stream.writeSSE({
          event: 'session-row',
          // Where a reconnect resumes: a little before now, like the page's `since`.
          id: String(Date.now() - SINCE_MARGIN_MS),
          data: JSON.stringify({
            id: session.id,
            created: session.createdAt.getTime(),
            match: matchesFilters(session, filters),
            html,
          }),
        });
      }
    };

    const updates = updateChain(deps.log);
    try {
      await followLiveFeed(stream, deps.liveFeed, updates.enqueue, {
        onReady() {
          if (since === undefined) return;
          updates.enqueue(async () => {
            const changed = await db
              .select({ id: sessions.id })
              .from(sessions)
              .where(gt(sessions.updatedAt, new Date(since)));
            await sendRows(changed.map((s) => s.id));
          });
        },
        onChange(change) {
          const ids = new Set([
            ...change.sessions.map((s) => s.id),
            ...change.events.map((e) => e.sessionId),
          ]);
          if (ids.size > 0) updates.enqueue(() => sendRows([...ids]));
        },
      });
    } finally {
      await updates.settled();
    }
  });
}
