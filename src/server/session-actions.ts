import { HTTPException } from 'hono/http-exception';
import type { Database } from '../db/client.js';
import { IllegalTransitionError } from '../sessions/illegal-transition.js';
import type { SessionService } from '../sessions/session-service.js';
import { isTerminal } from '../sessions/session-status.js';
import { findSession } from './session-queries.js';

/**
 * What a person can do to a session from the JSON API or the dashboard. Both call these, so a
 * message or a stop means the same thing wherever it comes from. Errors are HTTPExceptions:
 * 404 for an unknown session, 409 for one that has ended.
 */
export interface SessionActions {
  /** Queues a message for the agent; it becomes the next turn. */
  sendMessage(id: string, message: { body: string; source: string }): Promise<void>;
  /** Stops any running turn and ends the session; cleanup removes its worktree. */
  stop(id: string, stop: { reason: string; cleanup: boolean; by: string }): Promise<void>;
}

export function createSessionActions({
  database,
  sessionService,
}: {
  database: Database;
  sessionService: SessionService;
}): SessionActions {
  const { db } = database;

  async function existing(id: string) {
    const session = await findSession(db, id);
    if (!session) throw new HTTPException(404, { message: `no session ${id}` });
    return session;
  }

  return {
    async sendMessage(id, message) {
      await existing(id);
      try {
        await sessionService.apply(id, { type: 'message', ...message });
      } catch (error) {
        if (error instanceof IllegalTransitionError && error.ended)
          throw new HTTPException(409, { message: `session ${id} has ended` });
        throw error;
      }
    },

    async stop(id, { reason, cleanup, by }) {
      const session = await existing(id);
      if (isTerminal(session.status))
        throw new HTTPException(409, {
          message: `session ${session.id} has ended (${session.status})`,
        });
      await sessionService.apply(id, {
        type: 'stop-requested',
        status: 'stopped',
        reason,
        cleanup,
        by,
      });
    },
  };
}
