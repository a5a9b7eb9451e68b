import { type Context, Hono } from 'hono';
import { listDeadJobs } from '../dead-jobs.js';
import { repositorySpend } from '../repository-spend.js';
import {
  lastEvents,
  listSessions,
  repositoriesWithSessions,
  sessionListQuery,
} from '../session-queries.js';
import type { DashboardContext } from './dashboard-context.js';
import { SINCE_MARGIN_MS, streamSessionList } from './session-list-stream.js';
import { SessionsPage } from './views/sessions-page.js';

const PAGE_SIZE = 50;

/** The sessions table (at / and /sessions) and its live stream. */
export function sessionListRoutes({
  db,
  auth,
  githubUrl,
  now,
  limits,
  streams,
}: DashboardContext): Hono {
  const app = new Hono();
  const list = async (c: Context) => {
    const raw = {
      repository: c.req.query('repository') || undefined,
      status: c.req.query('status') || undefined,
    };
    const cursor = c.req.query('cursor') || undefined;
    const limit = c.req.query('limit') || undefined;
    const parsed = sessionListQuery.safeParse({ ...raw, cursor, limit: limit ?? PAGE_SIZE });
    const repositories = await repositoriesWithSessions(db);
    const common = {
      filters: raw,
      cursor,
      limit,
      repositories,
      githubUrl,
      now: now(),
      csrfToken: auth.csrfToken(c),
    };
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return c.html(
        <SessionsPage
          {...common}
          sessions={[]}
          lastEvents={new Map()}
          nextCursor={null}
          live={undefined}
          error={`Bad filter: ${issue.path.join('.')}: ${issue.message}`}
        />,
        400,
      );
    }
    // Failed jobs are the whole installation's: on the first page of the unfiltered list.
    const home = !raw.repository && !raw.status && !cursor;
    const [page, spend, failedJobs] = await Promise.all([
      listSessions(db, parsed.data),
      repositorySpend(db, limits, { repository: parsed.data.repository }, common.now),
      home ? listDeadJobs(db) : [],
    ]);
    const stream = new URLSearchParams();
    if (parsed.data.repository) stream.set('repository', parsed.data.repository);
    if (parsed.data.status) stream.set('status', parsed.data.status);
    stream.set('since', String(Date.now() - SINCE_MARGIN_MS));
    return c.html(
      <SessionsPage
        {...common}
        sessions={page.sessions}
        lastEvents={
          await lastEvents(
            db,
            page.sessions.map((s) => s.id),
          )
        }
        nextCursor={page.nextCursor}
        live={`/sessions/stream?${stream}`}
        spend={spend}
        failedJobs={failedJobs}
      />,
    );
  };
  app.get('/', list);
  app.get('/sessions', list);

  app.get('/sessions/stream', (c) => {
    const parsed = sessionListQuery.safeParse({
      repository: c.req.query('repository') || undefined,
      status: c.req.query('status') || undefined,
    });
    if (!parsed.success) return c.text('bad filter', 400);
    const since = Number(c.req.header('last-event-id') ?? c.req.query('since'));
    return streamSessionList(
      c,
      streams,
      parsed.data,
      Number.isFinite(since) && since > 0 ? since : undefined,
    );
  });

  return app;
}
