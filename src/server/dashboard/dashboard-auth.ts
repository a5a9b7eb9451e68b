import { createHmac, randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { sameToken } from '../api-token.js';

export const SESSION_COOKIE = 'ao_dashboard';
const COOKIE_MAX_AGE = 7 * 24 * 3600;

export interface DashboardAuth {
  /** The API token, compared in constant time. */
  isApiToken(given: string): boolean;
  isLoggedIn(c: Context): boolean;
  /** Starts a new login: a cookie of its own (HttpOnly, SameSite=Strict; Secure over https). */
  logIn(c: Context): void;
  logOut(c: Context): void;
  /** This login's form token: every dashboard form carries it, so another site cannot post them. */
  csrfToken(c: Context): string;
  isCsrfToken(c: Context, given: unknown): boolean;
}

/**
 * Logging in to the dashboard takes the API token. Each login gets a cookie of its own,
 * `<nonce>.<issued>.<mac>`, signed with a key derived from the token: not the token itself,
 * so a cookie cannot be replayed as a bearer token on the API; it ends after a week, and a new
 * API_TOKEN logs everyone out. The form token is derived from the login's nonce.
 */
export function createDashboardAuth(
  apiToken: string,
  { now = Date.now }: { now?: () => number } = {},
): DashboardAuth {
  const mac = (purpose: string, value: string) =>
    createHmac('sha256', apiToken)
      .update(`agent-orchestrator dashboard ${purpose} ${value}`)
      .digest('base64url');
  const secure = (c: Context) =>
    new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

  /** The login's nonce, when the request carries a valid, unexpired cookie. */
  const loginOf = (c: Context): string | undefined => {
    const match = /^([\w-]{22})\.(\d{1,12})\.([\w-]{43})$/.exec(getCookie(c, SESSION_COOKIE) ?? '');
    if (!match) return undefined;
    const [nonce, issued, signature] = [match[1]!, match[2]!, match[3]!];
    if (!sameToken(signature, mac('login', `${nonce}.${issued}`))) return undefined;
    const age = now() / 1000 - Number(issued);
    return age >= 0 && age < COOKIE_MAX_AGE ? nonce : undefined;
  };

  return {
    isApiToken: (given) => sameToken(given.trim(), apiToken),
    isLoggedIn: (c) => loginOf(c) !== undefined,
    logIn(c) {
      const nonce = randomBytes(16).toString('base64url');
      const issued = String(Math.floor(now() / 1000));
      setCookie(c, SESSION_COOKIE, `${nonce}.${issued}.${mac('login', `${nonce}.${issued}`)}`, {
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
        secure: secure(c),
        maxAge: COOKIE_MAX_AGE,
      });
    },
    logOut(c) {
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: secure(c) });
    },
    csrfToken(c) {
      const nonce = loginOf(c);
      return nonce ? mac('form', nonce) : '';
    },
    isCsrfToken(c, given) {
      const nonce = loginOf(c);
      return (
        nonce !== undefined && typeof given === 'string' && sameToken(given, mac('form', nonce))
      );
    },
  };
}

/** A path on this site to go back to after logging in; anything else goes home. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(next) ? next : '/';
}

/**
 * Lets logged-in people through; sends the others to the login page (and back afterwards). An
 * event stream gets a plain 401, which ends a browser's EventSource instead of retrying.
 */
export function requireLogin(auth: DashboardAuth): MiddlewareHandler {
  return async (c, next) => {
    if (auth.isLoggedIn(c)) return next();
    if (c.req.header('accept')?.includes('text/event-stream')) return c.text('log in first', 401);
    // A link from another site (the status comment on GitHub) comes without the SameSite=Strict
    // cookie; the same address opened again from this site has it.
    if (
      c.req.method === 'GET' &&
      c.req.header('sec-fetch-site') === 'cross-site' &&
      c.req.header('sec-fetch-mode') === 'navigate'
    ) {
      return c.html(
        '<!doctype html><meta http-equiv="refresh" content="0"><title>Agent Orchestrator</title><a href="">Continue</a>',
      );
    }
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(`${url.pathname}${url.search}`)}`, 303);
  };
}

/** The posted form, once its token shows it came from one of the dashboard's pages. */
export async function formFromDashboard(
  auth: DashboardAuth,
  c: Context,
): Promise<Record<string, unknown>> {
  const form = await c.req.parseBody();
  if (!auth.isCsrfToken(c, form._csrf))
    throw new HTTPException(403, {
      message:
        'This form is out of date or was sent from another site. Reload the page and try again.',
    });
  return form;
}
