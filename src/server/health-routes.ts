import { Hono } from 'hono';
import type { Database } from '../db/client.js';

/** Liveness answers while the process serves; readiness also needs the database. */
export function healthRoutes({ database }: { database: Database }) {
  return new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      try {
        await database.ping();
        return c.json({ status: 'ready', database: database.kind });
      } catch {
        return c.json({ status: 'unavailable', database: database.kind }, 503);
      }
    });
}
