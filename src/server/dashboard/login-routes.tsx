import { type Context, Hono } from 'hono';
import { clientAddress } from './client-address.js';
import { type DashboardAuth, formFromDashboard, safeNext } from './dashboard-auth.js';
import type { LoginCodes } from './login-codes.js';
import type { LoginLimiter } from './login-limiter.js';
import { LoginPage } from './views/login-page.js';

export interface LoginDeps {
  auth: DashboardAuth;
  /** The one-time codes login links carry (the link printed at startup). */
  codes: LoginCodes;
  limiter: LoginLimiter;
}

/**
 * Logging in with the API token (the form) or a one-time login link, and out. The token is
 * never taken from an address: it would stay in the browser's history and in proxies' logs.
 * Each address has a few failures before it must wait.
 */
export function loginRoutes({ auth, codes, limiter }: LoginDeps): Hono {
  const attempt = (c: Context, next: string, valid: () => boolean, refusal: string) => {
    const address = clientAddress(c);
    const wait = limiter.retryAfter(address);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      const minutes = Math.ceil(wait / 60);
      return c.html(
        <LoginPage
          next={next}
          error={`Too many failed logins from this address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`}
        />,
        429,
      );
    }
    if (!valid()) {
      limiter.failed(address);
      return c.html(<LoginPage next={next} error={refusal} />, 401);
    }
    limiter.succeeded(address);
    auth.logIn(c);
    return c.redirect(next, 303);
  };

  return new Hono()
    .get('/login', (c) => {
      const next = safeNext(c.req.query('next'));
      const code = c.req.query('code');
      // A one-time login link: the code is used up, and leaves the address bar with the redirect.
      if (code !== undefined) {
        return attempt(
          c,
          next,
          () => codes.redeem(code),
          'That login link has been used or has expired. Paste the API token instead.',
        );
      }
      // The API token in an address is not taken: back to a clean login page.
      if (c.req.query('token') !== undefined) {
        return c.redirect(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, 303);
      }
      if (auth.isLoggedIn(c)) return c.redirect(next, 303);
      return c.html(<LoginPage next={next} />);
    })
    .post('/login', async (c) => {
      const form = await c.req.parseBody();
      const token = form.token;
      return attempt(
        c,
        safeNext(form.next),
        () => typeof token === 'string' && auth.isApiToken(token),
        'That token is not the API token.',
      );
    })
    .post('/logout', async (c) => {
      await formFromDashboard(auth, c);
      auth.logOut(c);
      return c.redirect('/login', 303);
    });
}
