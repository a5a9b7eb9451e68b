import { type Context, Hono } from 'hono';
import { type DashboardAuth, formFromDashboard, safeNext } from './dashboard-auth.js';
import { LoginPage } from './views/login-page.js';

/** Logging in with the API token (a form, or the link printed at startup) and out. */
export function loginRoutes(auth: DashboardAuth): Hono {
  const logIn = (c: Context, token: unknown, next: string) => {
    if (typeof token !== 'string' || !auth.isApiToken(token)) {
      return c.html(<LoginPage next={next} error="That token is not the API token." />, 401);
    }
    auth.logIn(c);
    return c.redirect(next, 303);
  };

  return new Hono()
    .get('/login', (c) => {
      const next = safeNext(c.req.query('next'));
      const token = c.req.query('token');
      // The link printed at startup: the token leaves the address bar with the redirect.
      if (token !== undefined) return logIn(c, token, next);
      if (auth.isLoggedIn(c)) return c.redirect(next, 303);
      return c.html(<LoginPage next={next} />);
    })
    .post('/login', async (c) => {
      const form = await c.req.parseBody();
      return logIn(c, form.token, safeNext(form.next));
    })
    .post('/logout', async (c) => {
      await formFromDashboard(auth, c);
      auth.logOut(c);
      return c.redirect('/login', 303);
    });
}
