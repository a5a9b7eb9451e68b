import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { jobs } from '../db/schema.js';
import { type DeadJob, deadJob } from '../sessions/dead-job.js';

/** How many failed jobs the dashboard and `GET /api/jobs/dead` list, newest first. */
export const DEAD_JOBS_SHOWN = 20;

/** What of a payload names what the job was about; any payload fits (a dead one may be odd). */
const about = z
  .object({
    deliveryId: z.string().optional().catch(undefined),
    intent: z
      .object({ repo: z.object({ fullName: z.string() }).optional().catch(undefined) })
      .optional()
      .catch(undefined),
  })
  .catch({});

/** A job that gave up, for operators: what it could not do, when, and why. */
export interface DeadJobListing extends DeadJob {
  /** The session it belonged to; null for a job of no session (an intent, say). */
  sessionId: string | null;
  /** The repository it was about, when its payload names one. */
  repository: string | null;
  /** The webhook delivery behind an intent job. */
  deliveryId: string | null;
  /** When it was marked dead. */
  diedAt: Date;
}

/**
 * The newest jobs that gave up, of every session and of none. Reads the jobs table (its kind,
 * attempts and last error); a job of a session is on that session's timeline as well.
 */
export async function listDeadJobs(db: Db, limit = DEAD_JOBS_SHOWN): Promise<DeadJobListing[]> {
  const rows = await db
    .select()
    .from(jobs)
    .where(eq(jobs.status, 'dead'))
    .orderBy(desc(jobs.updatedAt), desc(jobs.id))
    .limit(limit);
  return rows.map((row) => {
    const payload = about.parse(row.payload);
    return {
      ...deadJob(row),
      sessionId: row.sessionId,
      repository: payload.intent?.repo?.fullName ?? null,
      deliveryId: payload.deliveryId ?? null,
      diedAt: row.updatedAt,
    };
  });
}
