import { Hono } from 'hono';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { readDatabaseGauges } from './database-gauges.js';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

/**
 * Prometheus text for a scraper. Unauthenticated, as scrapers usually are: no label carries a
 * repository, issue or token, only counts by event, status, agent and route template.
 */
export function metricsRoute({
  metrics,
  database,
  log,
}: {
  metrics: Metrics;
  database: Database;
  log: Logger;
}) {
  return new Hono().get(METRICS_PATH, async (c) => {
    await readDatabaseGauges(metrics, database, log);
    const text = await metrics.registry.metrics();
    c.header('cache-control', 'no-store');
    return c.body(text, 200, { 'content-type': metrics.registry.contentType });
  });
}
