import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { sessionLimits } from '../repository-spend.js';
import { eventsOf, findSession, messagesOf, turnsOf } from '../session-queries.js';
import { formFromDashboard } from './dashboard-auth.js';
import type { DashboardContext } from './dashboard-context.js';
import { outputPlace, readLogEnd } from './output-tail.js';
import { positionFromLastEventId, streamSession } from './session-stream.js';
import { SessionPage, type SessionPageProps } from './views/session-page.js';

const SESSION_ID = /^s-[a-z0-9]{12}$/;

const messageForm = z.object({
  body: z
    .string()
    .trim()
    .min(1, 'Write a message first.')
    .max(65_536, 'The message is too long (at most 65,536 characters).'),
});
const streamPosition = z.object({
  after: z.coerce.number().int().min(0).default(0),
  turn: z.coerce.number().int().min(0).default(0),
  offset: z.coerce.number().int().min(0).default(0),
});

/** One session's page, its live stream, and the message and stop forms. */
export function sessionRoutes({
  db,
  auth,
  actions,
  githubUrl,
  now,
  limits,
  streams,
}: DashboardContext): Hono {
  const app = new Hono();
  const sessionIdOr404 = (c: Context) => {
    const id = c.req.param('id') ?? '';
    if (!SESSION_ID.test(id)) throw new HTTPException(404, { message: `No session ${id}.` });
    return id;
  };

  const showSession = async (
    c: Context,
    id: string,
    extra: Pick<SessionPageProps, 'flash' | 'draft'> & { status?: 200 | 400 | 409 } = {},
  ) => {
    const session = await findSession(db, id);
    if (!session) throw new HTTPException(404, { message: `No session ${id}.` });
    const [events, messages, turns] = await Promise.all([
      eventsOf(db, id),
      messagesOf(db, id),
      turnsOf(db, id),
    ]);
    const place = outputPlace(turns.at(-1));
    const end =
      place.kind === 'here' ? await readLogEnd(place.turn.logPath) : { lines: [], offset: 0 };
    const position = new URLSearchParams({
      after: String(events.at(-1)?.id ?? 0),
      turn: String(place.kind === 'none' ? 0 : place.turn.number),
      offset: String(end.offset),
    });
    return c.html(
      <SessionPage
        session={session}
        limits={sessionLimits(limits, session)}
        events={events}
        messages={messages}
        turns={turns}
        output={{ place, lines: end.lines }}
        flash={extra.flash}
        draft={extra.draft}
        githubUrl={githubUrl}
        now={now()}
        csrfToken={auth.csrfToken(c)}
        live={`/sessions/${id}/stream?${position}`}
      />,
      extra.status ?? 200,
    );
  };

  app.get('/sessions/:id', (c) => {
    const id = sessionIdOr404(c);
    const flash = c.req.query('sent')
      ? { kind: 'ok' as const, text: 'Message queued: the agent gets it as its next turn.' }
      : c.req.query('stopping')
        ? {
            kind: 'ok' as const,
            text: 'Stopping: any running turn is stopped and the session ends.',
          }
        : undefined;
    return showSession(c, id, { flash });
  });

  app.get('/sessions/:id/stream', async (c) => {
    const id = sessionIdOr404(c);
    if (!(await findSession(db, id))) return c.text(`no session ${id}`, 404);
    const resumed = positionFromLastEventId(c.req.header('last-event-id'));
    const position = resumed ?? streamPosition.safeParse(c.req.query()).data;
    if (!position) return c.text('bad position', 400);
    return streamSession(c, streams, id, position);
  });

  app.post('/sessions/:id/messages', async (c) => {
    const id = sessionIdOr404(c);
    const form = await formFromDashboard(auth, c);
    const draft = typeof form.body === 'string' ? form.body : '';
    const parsed = messageForm.safeParse({ body: draft });
    if (!parsed.success) {
      return showSession(c, id, {
        status: 400,
        draft,
        flash: { kind: 'error', text: parsed.error.issues[0]!.message },
      });
    }
    try {
      await actions.sendMessage(id, { body: parsed.data.body, source: 'dashboard' });
    } catch (error) {
      if (error instanceof HTTPException && error.status === 409) {
        return showSession(c, id, {
          status: 409,
          draft,
          flash: { kind: 'error', text: 'This session has ended: it takes no more messages.' },
        });
      }
      throw error;
    }
    return c.redirect(`/sessions/${id}?sent=1`, 303);
  });

  app.post('/sessions/:id/stop', async (c) => {
    const id = sessionIdOr404(c);
    await formFromDashboard(auth, c);
    try {
      await actions.stop(id, {
        reason: 'stopped from the dashboard',
        cleanup: true,
        by: 'dashboard',
      });
    } catch (error) {
      if (error instanceof HTTPException && error.status === 409) {
        return showSession(c, id, {
          status: 409,
          flash: { kind: 'error', text: 'This session has already ended.' },
        });
      }
      throw error;
    }
    return c.redirect(`/sessions/${id}?stopping=1`, 303);
  });

  return app;
}
