import { createHash, timingSafeEqual } from 'node:crypto';
import { and, asc, desc, eq, gt, lt, or, type SQL } from 'drizzle-orm';
import { Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { SESSION_STATUSES, type Session, sessionEvents, sessions } from '../db/schema.js';
import { isTerminal, type SessionService } from '../sessions/session-service.js';

export interface ApiDeps {
  database: Database;
  sessionService: SessionService;
  /** The bearer token; null means the API answers 401 to everyone. */
  apiToken: string | null;
}

const listQuery = z.object({
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

const eventsQuery = z.object({
  /** Only events after this id (for following a session). */
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

const messageBody = z.object({ body: z.string().trim().min(1).max(65_536) }).strict();
const stopBody = z.object({ cleanup: z.boolean().default(true) }).strict();

/** Compares in constant time whatever the lengths (hashing first evens them out). */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new HTTPException(400, { message: `${issue.path.join('.') || 'body'}: ${issue.message}` });
}

/** The request's JSON body; null when empty; a 400 when it is not JSON. */
async function jsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: 'body is not valid JSON' });
  }
}

/** The JSON API of DESIGN.md: sessions, their events, messages and stops, behind a bearer token. */
export function apiRoutes({ database, sessionService, apiToken }: ApiDeps) {
  const { db } = database;

  async function sessionOr404(id: string): Promise<Session> {
    const [row] = await db.select().from(sessions).where(eq(sessions.id, id));
    if (!row) throw new HTTPException(404, { message: `no session ${id}` });
    return row;
  }

  const requireToken: MiddlewareHandler = async (c, next) => {
    const token = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!apiToken || !token || !sameToken(token, apiToken)) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new HTTPException(401, {
        message: apiToken ? 'a valid bearer token is required' : 'the API is off: set API_TOKEN',
      });
    }
    await next();
  };

  return new Hono()
    .use('/api/sessions', requireToken)
    .use('/api/sessions/*', requireToken)
    .get('/api/sessions', async (c) => {
      const query = parse(listQuery, c.req.query());
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
      return c.json({ sessions: page, nextCursor });
    })
    .get('/api/sessions/:id', async (c) =>
      c.json({ session: await sessionOr404(c.req.param('id')) }),
    )
    .get('/api/sessions/:id/events', async (c) => {
      const session = await sessionOr404(c.req.param('id'));
      const query = parse(eventsQuery, c.req.query());
      const events = await db
        .select()
        .from(sessionEvents)
        .where(and(eq(sessionEvents.sessionId, session.id), gt(sessionEvents.id, query.after)))
        .orderBy(asc(sessionEvents.id))
        .limit(query.limit);
      return c.json({ events });
    })
    .post('/api/sessions/:id/messages', async (c) => {
      const input = parse(messageBody, await jsonBody(c.req.raw));
      const id = c.req.param('id');
      await sessionOr404(id);
      await db.transaction(async (tx) => {
        const session = await sessionService.lockLive(tx, id);
        if (!session) throw new HTTPException(409, { message: `session ${id} has ended` });
        await sessionService.queueMessage(tx, session, { body: input.body, source: 'api' });
        await sessionService.touch(tx, id);
      });
      return c.json({ queued: true }, 202);
    })
    .post('/api/sessions/:id/stop', async (c) => {
      const input = parse(stopBody, (await jsonBody(c.req.raw)) ?? {});
      const session = await sessionOr404(c.req.param('id'));
      if (isTerminal(session.status))
        throw new HTTPException(409, {
          message: `session ${session.id} has ended (${session.status})`,
        });
      await db.transaction((tx) =>
        sessionService.requestStop(tx, session, {
          status: 'stopped',
          reason: 'stopped through the API',
          cleanup: input.cleanup,
        }),
      );
      return c.json({ stopping: true }, 202);
    });
}
