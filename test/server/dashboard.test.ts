import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jobs,
  type Session,
  sessionEvents,
  sessionMessages,
  sessions,
  turns,
} from '../../src/db/schema.js';
import { recordOnly } from '../../src/github/deliveries.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createServerApp } from '../../src/server/app.js';
import { SESSION_COOKIE } from '../../src/server/dashboard/dashboard-auth.js';
import { createLiveFeed, type LiveFeed } from '../../src/server/dashboard/live-feed.js';
import { createLoginCodes } from '../../src/server/dashboard/login-codes.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import { createSessionService, type SessionService } from '../../src/sessions/session-service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

const TOKEN = 'dashboard-token-for-tests-0123456789';
const HOSTILE = '<script>alert("owned")</script><img src=x onerror=alert(1)> & "quotes"';

/** Server-sent events read off a response body, one message at a time. */
function eventStream(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const queued: { event: string; data: string; id: string | undefined }[] = [];
  return {
    /** The next message that satisfies match (earlier ones are dropped). */
    async next(match: (m: { event: string; data: string }) => boolean) {
      for (;;) {
        while (queued.length > 0) {
          const message = queued.shift()!;
          if (match(message)) return message;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += decoder.decode(value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          const fields = block.split('\n').filter((l) => !l.startsWith(':'));
          const value = (name: string) =>
            fields.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
          if (value('data').length === 0) continue;
          queued.push({
            event: value('event')[0] ?? 'message',
            data: value('data').join('\n'),
            id: value('id')[0],
          });
        }
      }
    },
    close: () => reader.cancel(),
  };
}

describe.each(ENGINES)('the dashboard on %s', (engine) => {
  let t: TestDatabase;
  let service: SessionService;
  let feed: LiveFeed;
  let app: ReturnType<typeof createServerApp>;
  let cookie: string;
  let csrf: string;
  let stateDir: string;
  const created: Session[] = [];
  const loginCodes = createLoginCodes();

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.request(url, { headers: { cookie, ...headers } });
  const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    app.request(url, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  const html = async (url: string) => {
    const res = await get(url);
    expect(res.status).toBe(200);
    return res.text();
  };

  async function createSession(
    repository: string,
    issueNumber: number,
    title: string,
    runnerId: string | null = 'r-test-0001',
  ) {
    const session = await service.create({
      repositoryId: repository.length,
      repositoryFullName: repository,
      cloneUrl: `https://github.com/${repository}.git`,
      issueNumber,
      agent: 'claude-code',
      triggeredBy: 'alice',
      runnerId,
      context: {
        issue: { title, url: `https://github.example/${repository}/issues/${issueNumber}` },
      },
    });
    created.push(session!);
    return session!;
  }

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    const { db } = t.database;
    service = createSessionService({ db, queue: createJobQueue({ db }) });
    feed = createLiveFeed({ database: t.database, log: pino({ level: 'silent' }), intervalMs: 50 });
    app = createServerApp({
      database: t.database,
      verify: async () => false,
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      api: { sessionService: service, apiToken: TOKEN },
      dashboard: { liveFeed: feed, githubUrl: 'https://github.example', loginCodes },
    });

    const waiting = await createSession('octo/widgets', 1, 'Crash when saving');
    await createSession('octo/widgets', 2, HOSTILE);
    const merged = await createSession('octo/gadgets', 3, 'Add a changelog');
    await db
      .update(sessions)
      .set({ status: 'waiting', prNumber: 7, branch: 'agent/1-crash', costUsd: 1.25 })
      .where(eq(sessions.id, waiting.id));
    await db
      .update(sessions)
      .set({ status: 'merged', prNumber: 9, endedAt: new Date() })
      .where(eq(sessions.id, merged.id));
    await db.insert(sessionEvents).values([
      { sessionId: waiting.id, kind: 'pr-opened', data: { number: 7 } },
      { sessionId: waiting.id, kind: 'agent.text', data: { turn: 1, text: HOSTILE } },
    ]);

    // The first session's turn log, where the runner would write it on this host.
    stateDir = mkdtempSync(path.join(tmpdir(), 'ao-dashboard-'));
    const logPath = path.join(stateDir, waiting.id, 'turn-1.log');
    mkdirSync(path.dirname(logPath), { recursive: true });
    writeFileSync(logPath, '{"type":"system"}\nWorking on the crash\n');
    await db.insert(turns).values({
      sessionId: waiting.id,
      number: 1,
      runnerId: 'r-test-0001',
      logPath,
      status: 'finished',
    });

    const login = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    csrf = /name="_csrf" value="([\w-]+)"/.exec(await html('/sessions'))![1]!;
  });
  afterAll(async () => {
    feed?.close();
    await t?.cleanup();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('sends people without the cookie to the login page, and back once logged in', async () => {
    for (const url of ['/', '/sessions?status=waiting', `/sessions/${created[0]!.id}`]) {
      const res = await app.request(url);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
    const form = await app.request('/login?next=%2Fsessions%3Fstatus%3Dwaiting');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="token"');

    // A one-time login link (as printed at startup) logs in and leaves the address bar.
    const link = `/login?code=${loginCodes.issue()}&next=%2Fsessions%3Fstatus%3Dwaiting`;
    const res = await app.request(link);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sessions?status=waiting');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).not.toContain(TOKEN); // the cookie is not the API token itself
    const fresh = setCookie.split(';')[0]!;
    expect((await app.request('/sessions', { headers: { cookie: fresh } })).status).toBe(200);

    // The form does the same; a next that leaves the site goes home instead.
    const posted = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN, next: 'https://evil.example/' }).toString(),
    });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/');
  });

  it('refuses a wrong token with a 401 page and no cookie; a forged cookie is no login', async () => {
    const wrong = await app.request('/login?code=not-a-code');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('That login link has been used or has expired.');
    const posted = await app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=nope',
    });
    expect(posted.status).toBe(401);
    expect(posted.headers.get('set-cookie')).toBeNull();
    expect(await posted.text()).toContain('That token is not the API token.');
    for (const forged of [TOKEN, 'x'.repeat(64)]) {
      const res = await app.request('/sessions', {
        headers: { cookie: `${SESSION_COOKIE}=${forged}` },
      });
      expect(res.status).toBe(303);
    }
    // The cookie opens the dashboard, not the API.
    const api = await app.request('/api/sessions', {
      headers: { cookie, authorization: `Bearer ${cookie.split('=')[1]}` },
    });
    expect(api.status).toBe(401);
  });

  it('lets a link from GitHub through once the browser sends the SameSite=Strict cookie', async () => {
    const fromGitHub = await app.request(`/sessions/${created[0]!.id}`, {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    expect(fromGitHub.status).toBe(200);
    expect(await fromGitHub.text()).toContain('http-equiv="refresh"');
  });

  it('lists the sessions with links, badges, cost and last event, newest first', async () => {
    const page = await html('/');
    const rows = page.match(/<tr id="row-s-[a-z0-9]+"/g)!;
    expect(rows).toEqual([2, 1, 0].map((i) => `<tr id="row-${created[i]!.id}"`));
    expect(page).toContain('href="https://github.example/octo/widgets/issues/1"');
    expect(page).toContain('href="https://github.example/octo/widgets/pull/7"');
    expect(page).toContain('href="https://github.example/octo/gadgets/pull/9"');
    expect(page).toContain('Crash when saving');
    expect(page).toContain('<span class="badge s-waiting">waiting</span>');
    expect(page).toContain('<span class="badge s-merged">merged</span>');
    expect(page).toContain('$1.25');
    expect(page).toContain('r-test-0001');
    expect(page).toContain('<b>agent.text</b>');
    expect(page).toContain(`href="/sessions/${created[0]!.id}"`);
  });

  it('filters by repository and status with a plain GET form, and explains a bad filter', async () => {
    const form = await html('/sessions');
    expect(form).toContain('<form class="filters" method="get" action="/sessions">');
    expect(form).toContain('<option value="octo/gadgets">octo/gadgets</option>');

    const gadgets = await html('/sessions?repository=octo/gadgets');
    expect(gadgets).toContain(`row-${created[2]!.id}`);
    expect(gadgets).not.toContain(`row-${created[0]!.id}`);
    expect(gadgets).toContain('<option value="octo/gadgets" selected="">');
    const waiting = await html('/sessions?status=waiting&repository=');
    expect(waiting.match(/<tr id="row-/g)).toHaveLength(1);
    expect(waiting).toContain(`row-${created[0]!.id}`);
    const none = await html('/sessions?status=failed');
    expect(none).toContain('No session matches these filters.');

    const bad = await get('/sessions?status=sleeping');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Bad filter: status');
  });

  it('pages through the sessions with the API’s cursor, none missed or repeated', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/sessions?limit=2';
    while (url) {
      const page = await html(url);
      seen.push(...[...page.matchAll(/<tr id="row-(s-[a-z0-9]+)"/g)].map((m) => m[1]!));
      url = /<a href="([^"]+)">Older sessions/.exec(page)?.[1]?.replaceAll('&amp;', '&');
    }
    expect(seen).toEqual([2, 1, 0].map((i) => created[i]!.id));
  });

  it('escapes a hostile issue title and agent text everywhere it is shown', async () => {
    for (const page of [
      await html('/sessions'),
      await html(`/sessions/${created[1]!.id}`),
      await html(`/sessions/${created[0]!.id}`),
    ]) {
      expect(page).not.toContain('<script>alert');
      expect(page).not.toContain('<img src=x');
    }
    const table = await html('/sessions');
    expect(table).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;&lt;img src=x');
    const timeline = await html(`/sessions/${created[0]!.id}`);
    expect(timeline).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&quot;');
  });

  it('shows a session’s facts, its timeline, its messages and the end of its output', async () => {
    const page = await html(`/sessions/${created[0]!.id}`);
    expect(page).toContain('<h1>Crash when saving</h1>');
    expect(page).toContain('agent/1-crash');
    expect(page).toMatch(
      /<span class="kind">created<\/span><span class="what">triggered by @alice/,
    );
    expect(page).toContain('<span class="kind">pr-opened</span>');
    expect(page).toContain('Output of turn 1:');
    expect(page).toContain('Working on the crash');
    expect(page).toContain(`action="/sessions/${created[0]!.id}/messages"`);
    expect(page).toContain(`action="/sessions/${created[0]!.id}/stop"`);
    expect((await get('/sessions/s-000000000000')).status).toBe(404);
    expect((await get('/sessions/not-an-id')).status).toBe(404);
  });

  it('warns on the page of a session whose turns ran without a sandbox', async () => {
    const plain = await createSession('octo/plain', 5, 'Unsandboxed');
    expect(await html(`/sessions/${plain.id}`)).not.toContain('ran without a sandbox');
    await service.record(plain.id, 'turn-started', { turn: 1, argv0: 'claude', sandbox: 'off' });
    expect(await html(`/sessions/${plain.id}`)).toContain(
      'turns ran without a sandbox (SANDBOX=off)',
    );
  });

  it('says so when the output is on another runner host', async () => {
    const remote = await createSession('octo/remote', 4, 'Elsewhere');
    await t.database.db.insert(turns).values({
      sessionId: remote.id,
      number: 1,
      runnerId: 'r-other-host',
      logPath: path.join(stateDir, 'not-here', remote.id, 'turn-1.log'),
    });
    const page = await html(`/sessions/${remote.id}`);
    expect(page).toContain('Turn 1 runs on runner r-other-host, not on this host');
  });

  it('is complete without JavaScript: data in the HTML, forms that post and redirect', async () => {
    const page = (await html(`/sessions/${created[0]!.id}`)).replace(
      /<script[\s\S]*?<\/script>/g,
      '',
    );
    expect(page).toContain('Crash when saving');
    expect(page).toContain('Working on the crash');
    expect(page).toContain('<span class="badge s-waiting">waiting</span>');
    expect(page).toMatch(/<form method="post" action="\/sessions\/s-[a-z0-9]+\/messages">/);
    const table = (await html('/sessions')).replace(/<script[\s\S]*?<\/script>/g, '');
    for (const s of created.slice(0, 3)) expect(table).toContain(`/sessions/${s.id}`);
  });

  it('queues a message from the form as the agent’s next turn, then shows it queued', async () => {
    const id = created[0]!.id;
    const res = await post(`/sessions/${id}/messages`, {
      _csrf: csrf,
      body: '  Please also handle empty files.  ',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/sessions/${id}?sent=1`);
    const messages = await t.database.db
      .select()
      .from(sessionMessages)
      .where(eq(sessionMessages.sessionId, id));
    expect(messages).toEqual([
      expect.objectContaining({ body: 'Please also handle empty files.', source: 'dashboard' }),
    ]);
    const turnJobs = await t.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.sessionId, id), eq(jobs.kind, JOB_KINDS.turn)));
    expect(turnJobs).toHaveLength(1);
    const page = await html(`/sessions/${id}?sent=1`);
    expect(page).toContain('Message queued: the agent gets it as its next turn.');
    expect(page).toContain('Please also handle empty files.');
    expect(page).toContain('<span class="badge s-waiting">queued</span>');
  });

  it('refuses a message without the form token, an empty one, and one to an ended session, keeping the text', async () => {
    const count = async () =>
      (await t.database.db.select().from(sessionMessages)).filter((m) => m.source === 'dashboard')
        .length;
    const before = await count();

    const forged = await post(`/sessions/${created[0]!.id}/messages`, {
      body: 'from evil.example',
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('Reload the page and try again');
    const wrongToken = await post(`/sessions/${created[0]!.id}/messages`, {
      _csrf: TOKEN,
      body: 'hi',
    });
    expect(wrongToken.status).toBe(403);

    const empty = await post(`/sessions/${created[0]!.id}/messages`, { _csrf: csrf, body: '   ' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Write a message first.');

    const ended = await post(`/sessions/${created[2]!.id}/messages`, {
      _csrf: csrf,
      body: 'Too late <b>now</b>',
    });
    expect(ended.status).toBe(409);
    const text = await ended.text();
    expect(text).toContain('This session has ended: it takes no more messages.');
    expect(text).toContain('Too late &lt;b&gt;now&lt;/b&gt;</textarea>');
    expect(await count()).toBe(before);
  });

  it('stops a session from the form, and says so for one that has already ended', async () => {
    const running = created[0]!.id;
    const res = await post(`/sessions/${running}/stop`, { _csrf: csrf });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/sessions/${running}?stopping=1`);
    const [stop] = await t.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.sessionId, running), eq(jobs.kind, JOB_KINDS.stop)));
    expect(stop?.payload).toMatchObject({
      status: 'stopped',
      reason: 'stopped from the dashboard',
      cleanup: true,
    });

    // Never reached a runner: it ends at once.
    const queued = await createSession('octo/widgets', 5, 'Queued one', null);
    expect((await post(`/sessions/${queued.id}/stop`, { _csrf: csrf })).status).toBe(303);
    const page = await html(`/sessions/${queued.id}?stopping=1`);
    expect(page).toContain('<span class="badge s-stopped">stopped</span>');
    expect(page).toContain('stopped from the dashboard');

    expect((await post(`/sessions/${queued.id}/stop`, { _csrf: csrf })).status).toBe(409);
    expect((await post(`/sessions/${queued.id}/stop`, {})).status).toBe(403);
  });

  it('streams a changed session to the table as its rendered row', async () => {
    const stream = eventStream(await get('/sessions/stream', { accept: 'text/event-stream' }));
    try {
      // Written through another connection (another process, on Postgres).
      const other = await t.connect();
      await other.db
        .update(sessions)
        .set({ status: 'needs_human', updatedAt: sql`now()` })
        .where(eq(sessions.id, created[1]!.id));
      const message = await stream.next(
        (m) => m.event === 'session-row' && m.data.includes('needs human'),
      );
      const row = JSON.parse(message.data) as { id: string; match: boolean; html: string };
      expect(row.id).toBe(created[1]!.id);
      expect(row.match).toBe(true);
      expect(row.html).toContain('<span class="badge s-needs_human">needs human</span>');
      expect(row.html).toContain('&lt;script&gt;');
      expect(row.html).not.toContain('<script>');

      // A brand-new session is sent too, for the table to add.
      const fresh = await createSession('octo/new', 6, 'Brand new');
      const added = await stream.next(
        (m) => m.event === 'session-row' && m.data.includes(fresh.id),
      );
      expect(JSON.parse(added.data).html).toContain('Brand new');
    } finally {
      await stream.close();
    }
  });

  it('tells a filtered table that a session left its filter', async () => {
    const stream = eventStream(
      await get('/sessions/stream?status=needs_human', { accept: 'text/event-stream' }),
    );
    try {
      await t.database.db
        .update(sessions)
        .set({ status: 'waiting', updatedAt: sql`now()` })
        .where(eq(sessions.id, created[1]!.id));
      const message = await stream.next(
        (m) => m.event === 'session-row' && m.data.includes(created[1]!.id),
      );
      expect(JSON.parse(message.data).match).toBe(false);
    } finally {
      await stream.close();
    }
  });

  it('streams a session’s new events, status and output lines to its page', async () => {
    const id = created[1]!.id;
    const logPath = path.join(stateDir, id, 'turn-1.log');
    mkdirSync(path.dirname(logPath), { recursive: true });
    writeFileSync(logPath, 'first line\n');
    await t.database.db
      .insert(turns)
      .values({ sessionId: id, number: 1, runnerId: 'r-test-0001', logPath });
    const page = await html(`/sessions/${id}`);
    expect(page).toContain('first line');
    const live = /data-live="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    const stream = eventStream(await get(live, { accept: 'text/event-stream' }));
    try {
      await t.database.db.insert(sessionEvents).values({
        sessionId: id,
        kind: 'turn-started',
        data: { turn: 1 },
      });
      const event = await stream.next((m) => m.event === 'event');
      expect(JSON.parse(event.data).html).toContain('<span class="kind">turn-started</span>');

      await t.database.db
        .update(sessions)
        .set({ status: 'working', updatedAt: sql`now()` })
        .where(eq(sessions.id, id));
      const changed = await stream.next(
        (m) => m.event === 'session' && m.data.includes('s-working'),
      );
      expect(JSON.parse(changed.data).ended).toBe(false);

      appendFileSync(logPath, 'second line <b>bold</b>\n');
      const output = await stream.next((m) => m.event === 'output');
      // The first line was on the page already: only what is new is sent.
      expect(JSON.parse(output.data)).toEqual({ turn: 1, lines: ['second line <b>bold</b>'] });
      expect(output.id).toMatch(/^\d+:1:\d+$/);
    } finally {
      await stream.close();
    }
  });

  it('closes every stream when the server shuts down', async () => {
    const own = createLiveFeed({ database: t.database, log: pino({ level: 'silent' }) });
    const other = createServerApp({
      database: t.database,
      verify: async () => false,
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      api: { sessionService: service, apiToken: TOKEN },
      dashboard: { liveFeed: own, githubUrl: 'https://github.example' },
    });
    const res = await other.request('/sessions/stream', { headers: { cookie } });
    const reader = res.body!.getReader();
    await reader.read(); // the retry hint
    own.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});

describe('the dashboard without API_TOKEN (production)', () => {
  it('is shut, and says to set API_TOKEN', async () => {
    const t = await openTestDatabase('pglite');
    const feed = createLiveFeed({ database: t.database, log: pino({ level: 'silent' }) });
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
        dashboard: { liveFeed: feed, githubUrl: 'https://github.com' },
      });
      for (const url of ['/', '/sessions', '/login?token=anything', '/sessions/s-000000000000']) {
        const res = await app.request(url);
        expect(res.status).toBe(503);
        expect(res.headers.get('set-cookie')).toBeNull();
        expect(await res.text()).toContain('Set API_TOKEN');
      }
    } finally {
      feed.close();
      await t.cleanup();
    }
  });
});
