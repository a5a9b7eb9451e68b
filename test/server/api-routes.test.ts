import { Webhooks } from '@octokit/webhooks';
import { and, eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveries, jobs, type Session, sessionMessages, sessions } from '../../src/db/schema.js';
import { recordOnly } from '../../src/github/deliveries.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createServerApp } from '../../src/server/app.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import { createSessionService, type SessionService } from '../../src/sessions/session-service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

const TOKEN = 'api-token-for-tests-0123456789';

describe.each(ENGINES)('the JSON API on %s', (engine) => {
  let t: TestDatabase;
  let service: SessionService;
  let app: ReturnType<typeof createServerApp>;
  const created: Session[] = [];

  const call = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = TOKEN, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    if (rest.body) headers.set('content-type', 'application/json');
    return app.request(path, { ...rest, headers });
  };

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    service = createSessionService({
      db: t.database.db,
      queue: createJobQueue({ db: t.database.db }),
    });
    const webhooks = new Webhooks({ secret: 's' });
    app = createServerApp({
      database: t.database,
      verify: (body, signature) => webhooks.verify(body, signature),
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      api: { sessionService: service, apiToken: TOKEN },
    });
    for (const [repository, issueNumber] of [
      ['octo/widgets', 1],
      ['octo/widgets', 2],
      ['octo/gadgets', 3],
    ] as const) {
      const session = await service.create({
        repositoryId: repository.length,
        repositoryFullName: repository,
        cloneUrl: `https://github.com/${repository}.git`,
        issueNumber,
        agent: 'claude-code',
        triggeredBy: 'alice',
        runnerId: 'r-test-0001',
      });
      created.push(session!);
    }
    await t.database.db
      .update(sessions)
      .set({ status: 'waiting' })
      .where(eq(sessions.id, created[0]!.id));
    await t.database.db
      .update(sessions)
      .set({ status: 'merged' })
      .where(eq(sessions.id, created[2]!.id));
  });
  afterAll(() => t?.cleanup());

  it('refuses a missing or wrong bearer token with 401, on every route', async () => {
    for (const path of [
      '/api/sessions',
      `/api/sessions/${created[0]!.id}`,
      `/api/sessions/${created[0]!.id}/events`,
    ]) {
      const missing = await call(path, { token: null });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect((await call(path, { token: `${TOKEN}x` })).status).toBe(401);
    }
    expect(
      (await call(`/api/sessions/${created[0]!.id}/stop`, { method: 'POST', token: 'nope' }))
        .status,
    ).toBe(401);
  });

  it('lists sessions newest first, filtered by repository and status', async () => {
    const all = (await (await call('/api/sessions')).json()) as {
      sessions: Session[];
      nextCursor: string | null;
    };
    expect(all.sessions.map((s) => s.issueNumber)).toEqual([3, 2, 1]);
    expect(all.nextCursor).toBeNull();
    const widgets = (await (await call('/api/sessions?repository=octo/widgets')).json()) as {
      sessions: Session[];
    };
    expect(widgets.sessions.map((s) => s.issueNumber)).toEqual([2, 1]);
    const merged = (await (await call('/api/sessions?status=merged')).json()) as {
      sessions: Session[];
    };
    expect(merged.sessions.map((s) => s.issueNumber)).toEqual([3]);
    const bad = await call('/api/sessions?status=sleeping');
    expect(bad.status).toBe(400);
    expect((await bad.json()) as { error: string }).toMatchObject({
      error: expect.stringContaining('status'),
    });
  });

  it('pages through sessions with a cursor, none missed or repeated', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await call(`/api/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as { sessions: Session[]; nextCursor: string | null };
      seen.push(...page.sessions.map((s) => s.issueNumber));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([3, 2, 1]);
  });

  it('shows one session and its events after a given id, and 404s an unknown one', async () => {
    const one = (await (await call(`/api/sessions/${created[1]!.id}`)).json()) as {
      session: Session;
    };
    expect(one.session).toMatchObject({
      id: created[1]!.id,
      repositoryFullName: 'octo/widgets',
      issueNumber: 2,
    });
    const events = (await (await call(`/api/sessions/${created[1]!.id}/events`)).json()) as {
      events: { id: number; kind: string }[];
    };
    expect(events.events.map((e) => e.kind)).toEqual(['created']);
    const after = (await (
      await call(`/api/sessions/${created[1]!.id}/events?after=${events.events[0]!.id}`)
    ).json()) as { events: unknown[] };
    expect(after.events).toEqual([]);
    const missing = await call('/api/sessions/s-doesnotexist1');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no session s-doesnotexist1' });
  });

  it('queues a message for the agent as a turn on the session’s runner', async () => {
    const id = created[0]!.id;
    const res = await call(`/api/sessions/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ body: 'Please add tests.' }),
    });
    expect(res.status).toBe(202);
    const [message] = await t.database.db
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, id));
    expect(message).toMatchObject({ body: 'Please add tests.', source: 'api', turnId: null });
    const turnJobs = await t.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.sessionId, id), eq(jobs.kind, JOB_KINDS.turn)));
    expect(turnJobs).toHaveLength(1);
    expect(turnJobs[0]!.runnerId).toBe('r-test-0001');
  });

  it('rejects bad message bodies with 400 and messages to an ended session with 409', async () => {
    const id = created[0]!.id;
    expect((await call(`/api/sessions/${id}/messages`, { method: 'POST', body: '{' })).status).toBe(
      400,
    );
    expect(
      (
        await call(`/api/sessions/${id}/messages`, {
          method: 'POST',
          body: JSON.stringify({ body: '  ' }),
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(`/api/sessions/${id}/messages`, {
          method: 'POST',
          body: JSON.stringify({ text: 'x' }),
        })
      ).status,
    ).toBe(400);
    const ended = await call(`/api/sessions/${created[2]!.id}/messages`, {
      method: 'POST',
      body: JSON.stringify({ body: 'hello' }),
    });
    expect(ended.status).toBe(409);
    expect(
      await t.database.db
        .select()
        .from(sessionMessages)
        .where(eq(sessionMessages.sessionId, created[2]!.id)),
    ).toEqual([]);
  });

  it('asks the runner to stop a session, and refuses to stop one that has ended', async () => {
    const id = created[1]!.id;
    expect((await call(`/api/sessions/${id}/stop`, { method: 'POST' })).status).toBe(202);
    const [stop] = await t.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.sessionId, id), eq(jobs.kind, JOB_KINDS.stop)));
    expect(stop?.payload).toMatchObject({
      status: 'stopped',
      reason: 'stopped through the API',
      cleanup: true,
    });
    expect((await call(`/api/sessions/${created[2]!.id}/stop`, { method: 'POST' })).status).toBe(
      409,
    );
  });
});

describe.each(ENGINES)('starting a session through the JSON API on %s', (engine) => {
  let t: TestDatabase;
  let app: ReturnType<typeof createServerApp>;
  let service: SessionService;
  let live: Session;

  const post = (body: unknown, query = '', token: string | null = TOKEN) =>
    app.request(`/api/sessions${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const get = (path: string) =>
    app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
  const startRecords = () =>
    t.database.db.select().from(deliveries).where(eq(deliveries.event, 'api'));
  /** The start's record once the route has written it (no worker runs here: the test decides). */
  const recordFor = async (issue: number) => {
    for (;;) {
      const [job] = await t.database.db
        .select()
        .from(jobs)
        .where(
          and(
            eq(jobs.kind, JOB_KINDS.intent),
            sql`(${jobs.payload}->'intent'->>'issueNumber')::int = ${issue}`,
          ),
        );
      if (job) return { id: String(job.payload.deliveryId), job };
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    service = createSessionService({
      db: t.database.db,
      queue: createJobQueue({ db: t.database.db }),
    });
    app = createServerApp({
      database: t.database,
      verify: async () => false,
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      api: { sessionService: service, apiToken: TOKEN },
    });
    live = (await service.create({
      repositoryId: 12,
      repositoryFullName: 'octo/widgets',
      cloneUrl: 'https://github.com/octo/widgets.git',
      issueNumber: 1,
      agent: 'claude-code',
      triggeredBy: 'alice',
    }))!;
  });
  afterAll(() => t?.cleanup());

  it('records the start and queues its intent in one go, and answers 202 pending to follow', async () => {
    const res = await post(
      { repository: 'octo/widgets', issue: 7, message: 'Be brief.' },
      '?wait=0',
    );
    expect(res.status).toBe(202);
    const body = (await res.json()) as { start: { id: string; state: string }; follow: string };
    expect(body.start.state).toBe('pending');
    expect(body.follow).toBe(`/api/starts/${body.start.id}`);
    const [record] = await t.database.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.id, body.start.id));
    expect(record).toMatchObject({
      event: 'api',
      action: 'start-session',
      outcome: 'queued:operator-start',
    });
    const { job } = await recordFor(7);
    expect(job.payload).toMatchObject({
      deliveryId: body.start.id,
      intent: {
        kind: 'operator-start',
        repository: 'octo/widgets',
        issueNumber: 7,
        message: 'Be brief.',
      },
    });
    const followed = (await (await get(body.follow)).json()) as { start: { state: string } };
    expect(followed.start.state).toBe('pending');
  });

  it('answers with the job’s decision when it comes while the request waits', async () => {
    const refused = post({ repository: 'octo/widgets', issue: 8 }, '?wait=20');
    const { id } = await recordFor(8);
    await t.database.db
      .update(deliveries)
      .set({ outcome: 'no-such-issue' })
      .where(eq(deliveries.id, id));
    const answer = await refused;
    expect(answer.status).toBe(404);
    expect(await answer.json()).toEqual({ error: 'octo/widgets has no issue #8' });

    const created = post({ repository: 'octo/widgets', issue: 9 }, '?wait=20');
    const second = await recordFor(9);
    await t.database.db
      .update(deliveries)
      .set({ outcome: 'session-created', sessionId: live.id })
      .where(eq(deliveries.id, second.id));
    const ok = await created;
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({
      start: { id: second.id, state: 'created', sessionId: live.id },
      session: { id: live.id },
    });
  });

  it('says why a start failed once its job gave up', async () => {
    const res = await post({ repository: 'octo/widgets', issue: 10 }, '?wait=0');
    const { start } = (await res.json()) as { start: { id: string } };
    const { job } = await recordFor(10);
    await t.database.db
      .update(jobs)
      .set({ status: 'dead', lastError: 'HttpError: Bad credentials\n    at request (x.js:1:1)' })
      .where(eq(jobs.id, job.id));
    const followed = (await (await get(`/api/starts/${start.id}`)).json()) as {
      start: { state: string; error: string };
    };
    expect(followed.start).toMatchObject({
      state: 'failed',
      error: 'the start failed: Bad credentials',
    });
  });

  it('refuses an issue with a live session (409) and bad bodies (400), recording nothing', async () => {
    const before = (await startRecords()).length;
    const conflict = await post({ repository: 'octo/widgets', issue: 1 });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({
      error: `octo/widgets#1 already has a live session: ${live.id} (queued)`,
    });
    for (const body of [
      '{',
      { issue: 3 },
      { repository: 'octo/widgets' },
      { repository: 'octo/widgets', issue: -1 },
      { repository: 'octo/widgets', issue: 3, message: '   ' },
      { repository: 'octo/widgets', issue: 3, agent: 'Bad Agent' },
      { repository: 'octo/widgets', issue: 3, extra: true },
    ])
      expect((await post(body)).status, JSON.stringify(body)).toBe(400);
    expect((await post({ repository: 'octo/widgets', issue: 3 }, '?wait=soon')).status).toBe(400);
    expect(await startRecords()).toHaveLength(before);
    expect((await post({ repository: 'octo/widgets', issue: 3 }, '', null)).status).toBe(401);
    expect((await post({ repository: 'octo/widgets', issue: 3 }, '', 'wrong')).status).toBe(401);
    expect(await startRecords()).toHaveLength(before);
  });

  it('gives the last n events of a session, oldest first', async () => {
    for (const kind of ['one', 'two', 'three']) await service.record(live.id, kind);
    const res = (await (await get(`/api/sessions/${live.id}/events?last=2`)).json()) as {
      events: { kind: string }[];
    };
    expect(res.events.map((e) => e.kind)).toEqual(['two', 'three']);
  });
});

describe('the JSON API without a token configured', () => {
  it('answers 401 and says how to turn it on', async () => {
    const t = await openTestDatabase('pglite');
    try {
      const app = createServerApp({
        database: t.database,
        verify: async () => false,
        handler: recordOnly,
        log: pino({ level: 'silent' }),
        api: {
          sessionService: createSessionService({
            db: t.database.db,
            queue: createJobQueue({ db: t.database.db }),
          }),
          apiToken: null,
        },
      });
      const res = await app.request('/api/sessions', {
        headers: { authorization: 'Bearer anything' },
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'the API is off: set API_TOKEN' });
    } finally {
      await t.cleanup();
    }
  });
});
