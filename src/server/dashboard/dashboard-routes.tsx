import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.js';
import type { OperatorLimits } from '../../limits-config.js';
import type { SessionService } from '../../sessions/session-service.js';
import { createSessionActions } from '../session-actions.js';
import { assetRoutes } from './asset-routes.js';
import { createDashboardAuth, requireLogin } from './dashboard-auth.js';
import type { DashboardContext } from './dashboard-context.js';
import type { LiveFeed } from './live-feed.js';
import { createLoginCodes, type LoginCodes } from './login-codes.js';
import { createLoginLimiter, type LoginLimiter } from './login-limiter.js';
import { loginRoutes } from './login-routes.js';
import { sessionListRoutes } from './session-list-routes.js';
import { sessionRoutes } from './session-routes.js';
import { MessagePage } from './views/layout.js';

/** What the dashboard needs beyond the API's dependencies. */
export interface DashboardOptions {
  /** The process's one poller for live updates. */
  liveFeed: LiveFeed;
  /** GitHub's web address, for links when a session has no issue address recorded. */
  githubUrl: string;
  now?: (() => Date) | undefined;
  /** The one-time codes of login links; the composition prints one at startup. */
  loginCodes?: LoginCodes | undefined;
  /** Failed logins per address (default: 10 within 10 minutes). */
  loginLimiter?: LoginLimiter | undefined;
}

export interface DashboardDeps extends DashboardOptions {
  database: Database;
  sessionService: SessionService;
  /** The API token, which also logs people in; null shuts the dashboard. */
  apiToken: string | null;
  log: Logger;
  /** The operator's limits (ORCHESTRATOR_CONFIG `limits`): budgets shown start from them. */
  limits: OperatorLimits;
}

/**
 * The dashboard: server-rendered pages that work without JavaScript, live through server-sent
 * events when it runs, behind a login with the API token.
 */
export function dashboardRoutes(deps: DashboardDeps): Hono {
  const { database, liveFeed, githubUrl, log, limits } = deps;
  const now = deps.now ?? (() => new Date());
  const app = new Hono();
  // The style sheet and script: every page needs them, the login page and error pages too.
  app.route('/', assetRoutes());

  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      return c.html(
        <MessagePage title={`Error ${error.status}`} message={error.message} />,
        error.status,
      );
    }
    log.error({ err: error, path: c.req.path }, 'dashboard request failed');
    return c.html(
      <MessagePage
        title="Something went wrong"
        message="The page could not be made; the error is logged."
      />,
      500,
    );
  });

  if (!deps.apiToken) {
    const off = (c: Context) =>
      c.html(
        <MessagePage
          title="The dashboard is off"
          message="No API_TOKEN is set, and in production the dashboard and the API stay shut without one. Set API_TOKEN (at least 16 characters, for example from `openssl rand -hex 32`), restart, and log in with it."
        />,
        503,
      );
    for (const path of ['/', '/login', '/logout', '/sessions', '/sessions/*']) app.all(path, off);
    return app;
  }

  const clock = () => now().getTime();
  const auth = createDashboardAuth(deps.apiToken, { now: clock });
  const context: DashboardContext = {
    db: database.db,
    auth,
    actions: createSessionActions(deps),
    githubUrl,
    now,
    limits,
    streams: { database, liveFeed, githubUrl, log, now, limits },
  };
  app.route(
    '/',
    loginRoutes({
      auth,
      codes: deps.loginCodes ?? createLoginCodes({ now: clock }),
      limiter: deps.loginLimiter ?? createLoginLimiter({ now: clock }),
    }),
  );
  for (const path of ['/', '/sessions', '/sessions/*']) app.use(path, requireLogin(auth));
  app.route('/', sessionListRoutes(context));
  app.route('/', sessionRoutes(context));
  return app;
}
