import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { DeliveryHandler } from '../github/deliveries.js';
import { type OperatorLimits, operatorLimitsSchema } from '../limits-config.js';
import type { Metrics } from '../metrics/metrics.js';
import { type GaugeCacheOptions, METRICS_PATH, metricsRoute } from '../metrics/metrics-route.js';
import type { SessionService } from '../sessions/session-service.js';
import { apiRoutes } from './api-routes.js';
import { requireBearer } from './api-token.js';
import type { BodyBudget } from './body-budget.js';
import { type DashboardOptions, dashboardRoutes } from './dashboard/dashboard-routes.js';
import { healthRoutes } from './health-routes.js';
import { securityHeaders } from './security-headers.js';
import { webhookRoute } from './webhook-route.js';

export interface ServerAppDeps {
  database: Database;
  /** With it, the JSON API is served (see api-routes.ts). */
  api?: { sessionService: SessionService; apiToken: string | null } | undefined;
  verify(body: string, signature: string): Promise<boolean>;
  handler: DeliveryHandler;
  log: Logger;
  /** With it and `api`, the dashboard is served (see dashboard/dashboard-routes.tsx). */
  dashboard?: DashboardOptions | undefined;
  /** With it, deliveries are counted and GET /metrics serves Prometheus text. */
  metrics?: Metrics | undefined;
  /** METRICS_TOKEN: with it, GET /metrics takes only `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
  /** How long the database gauges are kept between scrapes (tests shorten it). */
  metricsCache?: GaugeCacheOptions | undefined;
  /** The operator's limits (ORCHESTRATOR_CONFIG `limits`), for the dashboard's and metrics' budgets. */
  limits?: OperatorLimits | undefined;
  /** The clock that says which UTC day is today (tests set it). */
  now?: (() => Date) | undefined;
  /** What the webhook bodies in flight may hold at once (default 64 MB; tests make it small). */
  bodyBudget?: BodyBudget | undefined;
}

/**
 * The HTTP surface: webhooks, health and the JSON API, with JSON errors everywhere, and the
 * security headers (no framing, the dashboard's content policy) on every answer.
 */
export function createServerApp(deps: ServerAppDeps): Hono {
  const limits = deps.limits ?? operatorLimitsSchema.parse({});
  const now = deps.now ?? (() => new Date());
  const app = new Hono();
  app.use(securityHeaders());
  app.route('/', healthRoutes(deps));
  app.route('/', webhookRoute(deps));
  if (deps.metrics) {
    if (deps.metricsToken) app.use(METRICS_PATH, requireBearer(deps.metricsToken));
    app.route(
      '/',
      metricsRoute({ ...deps, metrics: deps.metrics, cache: deps.metricsCache, limits, now }),
    );
  }
  if (deps.api) app.route('/', apiRoutes({ database: deps.database, ...deps.api }));
  if (deps.api && deps.dashboard)
    app.route(
      '/',
      dashboardRoutes({
        database: deps.database,
        log: deps.log,
        limits,
        ...deps.api,
        ...deps.dashboard,
        now: deps.dashboard.now ?? now,
      }),
    );
  app.notFound((c) => c.json({ error: 'not found', path: c.req.path }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) {
      return c.json({ error: error.message }, error.status);
    }
    deps.log.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
