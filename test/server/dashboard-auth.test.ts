import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOnly } from '../../src/github/deliveries.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createServerApp } from '../../src/server/app.js';
import { SESSION_COOKIE } from '../../src/server/dashboard/dashboard-auth.js';
import { createLiveFeed, type LiveFeed } from '../../src/server/dashboard/live-feed.js';
import { createLoginCodes, LOGIN_CODE_TTL_MS } from '../../src/server/dashboard/login-codes.js';
import {
  createLoginLimiter,
  LOGIN_FAILURE_WINDOW_MS,
} from '../../src/server/dashboard/login-limiter.js';
import { CONTENT_SECURITY_POLICY } from '../../src/server/security-headers.js';
import { createSessionService } from '../../src/sessions/session-service.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';

const TOKEN = 'dashboard-auth-token-for-tests-0123';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('logging in to the dashboard', () => {
  let t: TestDatabase;
  let feed: LiveFeed;
  let app: ReturnType<typeof createServerApp>;
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const now = () => clock;
  const loginCodes = createLoginCodes({ now });

  /** A request from a given remote address, as Node's server hands it to Hono. */
  const from = (address: string, url: string, init: RequestInit = {}) =>
    app.request(url, init, { incoming: { socket: { remoteAddress: address } } });
  const postLogin = (address: string, token: string, next = '/') =>
    from(address, '/login', {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({ token, next }).toString(),
    });
  const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0];
  const csrfOf = async (cookie: string) => {
    const page = await (await app.request('/sessions', { headers: { cookie } })).text();
    return /name="_csrf" value="([\w-]+)"/.exec(page)![1]!;
  };

  beforeAll(async () => {
    t = await openTestDatabase('pglite');
    const { db } = t.database;
    feed = createLiveFeed({ database: t.database, log: pino({ level: 'silent' }) });
    app = createServerApp({
      database: t.database,
      verify: async () => false,
      handler: recordOnly,
      log: pino({ level: 'silent' }),
      api: {
        sessionService: createSessionService({ db, queue: createJobQueue({ db }) }),
        apiToken: TOKEN,
      },
      dashboard: {
        liveFeed: feed,
        githubUrl: 'https://github.example',
        now: () => new Date(clock),
        loginCodes,
        loginLimiter: createLoginLimiter({ now }),
      },
    });
  });
  afterAll(async () => {
    feed?.close();
    await t?.cleanup();
  });

  it('takes the API token in no address: ?token= logs nobody in, on any page', async () => {
    for (const url of [`/sessions?token=${TOKEN}`, `/?token=${TOKEN}`]) {
      const res = await from('192.0.2.1', url);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/login\?next=/);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
    // The old printed link: back to a clean login page, without the token and without a login.
    const link = await from('192.0.2.1', `/login?token=${TOKEN}&next=%2Fsessions`);
    expect(link.status).toBe(303);
    expect(link.headers.get('location')).toBe('/login?next=%2Fsessions');
    expect(link.headers.get('set-cookie')).toBeNull();
    // The API still takes the token as a bearer token.
    const api = await app.request('/api/sessions', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.status).toBe(200);
  });

  it('logs in once with a one-time link, which then works no more, nor after its time', async () => {
    const code = loginCodes.issue();
    const res = await from('192.0.2.2', `/login?code=${code}&next=%2Fsessions`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/sessions');
    const cookie = cookieOf(res)!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect((await app.request('/sessions', { headers: { cookie } })).status).toBe(200);

    const again = await from('192.0.2.2', `/login?code=${code}&next=%2Fsessions`);
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain('That login link has been used or has expired.');

    const late = loginCodes.issue();
    clock += LOGIN_CODE_TTL_MS;
    const expired = await from('192.0.2.2', `/login?code=${late}`);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('set-cookie')).toBeNull();
  });

  it('makes an address that failed 10 times wait, while another address still logs in', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await postLogin('198.51.100.7', `wrong-${i}`)).status).toBe(401);
    }
    const blocked = await postLogin('198.51.100.7', 'wrong-10');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBe(LOGIN_FAILURE_WINDOW_MS / 1000);
    expect(await blocked.text()).toContain('Too many failed logins from this address.');
    // While it waits, even the right token (or a login link) is not tried.
    const right = await postLogin('198.51.100.7', TOKEN);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
    const code = loginCodes.issue();
    expect((await from('198.51.100.7', `/login?code=${code}`)).status).toBe(429);

    const other = await postLogin('203.0.113.9', TOKEN);
    expect(other.status).toBe(303);
    expect(cookieOf(other)).toMatch(new RegExp(`^${SESSION_COOKIE}=`));

    // Once the failures are older than the window, the address may try again.
    clock += LOGIN_FAILURE_WINDOW_MS - 60_000;
    expect(Number((await postLogin('198.51.100.7', TOKEN)).headers.get('retry-after'))).toBe(60);
    clock += 60_000;
    expect((await postLogin('198.51.100.7', TOKEN)).status).toBe(303);
    // The link issued while it waited was not used up by the refusal.
    expect((await from('198.51.100.7', `/login?code=${code}`)).status).toBe(303);
  });

  it('gives each login its own cookie and form token; one login’s token is refused for another', async () => {
    const first = cookieOf(await postLogin('192.0.2.3', TOKEN))!;
    const second = cookieOf(await postLogin('192.0.2.3', TOKEN))!;
    expect(first).not.toBe(second);
    const [firstCsrf, secondCsrf] = [await csrfOf(first), await csrfOf(second)];
    expect(firstCsrf).not.toBe(secondCsrf);
    expect(await csrfOf(first)).toBe(firstCsrf); // stable for the login

    const logOut = (cookie: string, csrf: string) =>
      app.request('/logout', {
        method: 'POST',
        headers: { ...FORM, cookie },
        body: new URLSearchParams({ _csrf: csrf }).toString(),
      });
    const crossed = await logOut(second, firstCsrf);
    expect(crossed.status).toBe(403);
    expect(await crossed.text()).toContain(
      'This form is out of date or was sent from another site.',
    );
    expect((await logOut(first, '')).status).toBe(403);
    const own = await logOut(second, secondCsrf);
    expect(own.status).toBe(303);
    expect(own.headers.get('location')).toBe('/login');
  });

  it('ends a login after a week', async () => {
    const cookie = cookieOf(await postLogin('192.0.2.4', TOKEN))!;
    expect((await app.request('/sessions', { headers: { cookie } })).status).toBe(200);
    clock += 7 * 24 * 3600 * 1000;
    expect((await app.request('/sessions', { headers: { cookie } })).status).toBe(303);
  });

  it('refuses to be framed and allows no script or style but its own, on every answer', async () => {
    const cookie = cookieOf(await postLogin('192.0.2.5', TOKEN))!;
    const answers = [
      await app.request('/login'),
      await app.request('/sessions', { headers: { cookie } }),
      await app.request('/sessions/s-000000000000', { headers: { cookie } }),
      await app.request('/api/sessions', { headers: { authorization: `Bearer ${TOKEN}` } }),
      await app.request('/no-such-page'),
      await app.request('/healthz'),
    ];
    for (const res of answers) {
      expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');

    // The pages carry no inline script, style or handler: only this site's files.
    const page = await (await app.request('/sessions', { headers: { cookie } })).text();
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page).not.toMatch(/<style|\sstyle=|<[a-z]+[^>]*\son[a-z]+=/i);
    const script = /<script src="(\/assets\/dashboard-[0-9a-f]+\.js)">/.exec(page)![1]!;
    const style = /<link rel="stylesheet" href="(\/assets\/dashboard-[0-9a-f]+\.css)"/.exec(
      page,
    )![1]!;
    const js = await app.request(script);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toContain('new EventSource');
    const css = await app.request(style);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toContain('immutable');
  });
});
