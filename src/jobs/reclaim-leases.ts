import { and, eq, like, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { jobs } from '../db/schema.js';

/**
 * Makes the jobs an earlier process of this runner held claimable now rather than when their
 * leases run out; returns how many. (Workers are named `<runner id>:<lane>-<suffix>`.)
 */
export async function reclaimLeasesOf(db: Db, runnerId: string): Promise<number> {
  const rows = await db
    .update(jobs)
    .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
    .where(and(eq(jobs.status, 'running'), like(jobs.lockedBy, `${runnerId}:%`)))
    .returning({ id: jobs.id });
  return rows.length;
}
