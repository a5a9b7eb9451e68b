import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { OperatorLimits } from '../limits-config.js';
import { createDatabaseGauges, type GaugeCacheOptions } from './database-gauges.js';
import type { Metrics } from './metrics.js';

export type { GaugeCacheOptions } from './database-gauges.js';
export const METRICS_PATH = '/metrics';

/**
 * Prometheus text for a scraper; behind a bearer token when METRICS_TOKEN is set (the server
 * app checks it). No label carries a repository name, issue or token, only counts by event,
 * status, agent, route template and, for budgets, GitHub's numeric repository id. The database
 * gauges are read at most once per cache window, so a storm of scrapes costs the database one
 * set of grouped queries.
 */
export function metricsRoute({
  metrics,
  database,
  log,
  cache,
  limits,
  now,
}: {
  metrics: Metrics;
  database: Database;
  log: Logger;
  cache?: GaugeCacheOptions | undefined;
  /** The operator's limits, which the per-repository budgets start from. */
  limits: OperatorLimits;
  /** Which UTC day is today, for the daily budgets. */
  now: () => Date;
}) {
  const budgets = { limits, today: now };
  const gauges = createDatabaseGauges({ metrics, database, log, budgets, ...cache });
  return new Hono().get(METRICS_PATH, async (c) => {
    await gauges.refresh();
    const text = await metrics.registry.metrics();
    c.header('cache-control', 'no-store');
    return c.body(text, 200, { 'content-type': metrics.registry.contentType });
  });
}
