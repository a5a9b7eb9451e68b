import { and, asc, desc, eq, gt } from 'drizzle-orm';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { type Session, sessionEvents } from '../db/schema.js';
import type { SessionService } from '../sessions/session-service.js';
import { requireBearer } from './api-token.js';
import { deadJobRoutes } from './dead-job-routes.js';
import { jsonBody, parse } from './http-input.js';
import { operatorStartRoutes } from './operator-start-routes.js';
import { createSessionActions } from './session-actions.js';
import { findSession, listSessions, sessionListQuery } from './session-queries.js';

export interface ApiDeps {
  database: Database;
  sessionService: SessionService;
  /** The bearer token; null means the API answers 401 to everyone. */
  apiToken: string | null;
  /** How often a start's outcome is looked for while `POST /api/sessions` waits (default 100 ms). */
  startPollMs?: number;
}

const eventsQuery = z.object({
  /** Only events after this id (for following a session). */
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  /** Only the last n events (still oldest first), e.g. for a summary. */
  last: z.coerce.number().int().min(1).max(1000).optional(),
});

const messageBody = z.object({ body: z.string().trim().min(1).max(65_536) }).strict();
const stopBody = z.object({ cleanup: z.boolean().default(true) }).strict();

/**
 * The JSON API of DESIGN.md: sessions, their events, messages and stops, starting a session on
 * an issue (operator-start-routes.ts) and the jobs that gave up (dead-job-routes.ts), behind a
 * bearer token.
 */
export function apiRoutes(deps: ApiDeps) {
  const { database, apiToken } = deps;
  const { db } = database;
  const actions = createSessionActions(deps);

  async function sessionOr404(id: string): Promise<Session> {
    const session = await findSession(db, id);
    if (!session) throw new HTTPException(404, { message: `no session ${id}` });
    return session;
  }

  return new Hono()
    .route('/', operatorStartRoutes(deps))
    .route('/', deadJobRoutes(deps))
    .use('/api/sessions', requireBearer(apiToken))
    .use('/api/sessions/*', requireBearer(apiToken))
    .get('/api/sessions', async (c) =>
      c.json(await listSessions(db, parse(sessionListQuery, c.req.query()))),
    )
    .get('/api/sessions/:id', async (c) =>
      c.json({ session: await sessionOr404(c.req.param('id')) }),
    )
    .get('/api/sessions/:id/events', async (c) => {
      const session = await sessionOr404(c.req.param('id'));
      const query = parse(eventsQuery, c.req.query());
      const where = and(eq(sessionEvents.sessionId, session.id), gt(sessionEvents.id, query.after));
      if (query.last) {
        const newest = await db
          .select()
          .from(sessionEvents)
          .where(where)
          .orderBy(desc(sessionEvents.id))
          .limit(query.last);
        return c.json({ events: newest.reverse() });
      }
      const events = await db
        .select()
        .from(sessionEvents)
        .where(where)
        .orderBy(asc(sessionEvents.id))
        .limit(query.limit);
      return c.json({ events });
    })
    .post('/api/sessions/:id/messages', async (c) => {
      const input = parse(messageBody, await jsonBody(c.req.raw));
      await actions.sendMessage(c.req.param('id'), { body: input.body, source: 'api' });
      return c.json({ queued: true }, 202);
    })
    .post('/api/sessions/:id/stop', async (c) => {
      const input = parse(stopBody, (await jsonBody(c.req.raw)) ?? {});
      await actions.stop(c.req.param('id'), {
        reason: 'stopped through the API',
        cleanup: input.cleanup,
        by: 'api',
      });
      return c.json({ stopping: true }, 202);
    });
}
