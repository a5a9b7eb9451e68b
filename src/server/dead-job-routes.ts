import { Hono } from 'hono';
import type { Database } from '../db/client.js';
import { requireBearer } from './api-token.js';
import { listDeadJobs } from './dead-jobs.js';

/**
 * `GET /api/jobs/dead`: the newest jobs that ran out of attempts, of every session and of none,
 * behind the API's bearer token like the rest of the JSON API.
 */
export function deadJobRoutes({
  database,
  apiToken,
}: {
  database: Database;
  apiToken: string | null;
}) {
  return new Hono()
    .use('/api/jobs/*', requireBearer(apiToken))
    .get('/api/jobs/dead', async (c) => c.json({ jobs: await listDeadJobs(database.db) }));
}
