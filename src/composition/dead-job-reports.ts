import type { Db } from '../db/client.js';
import type { DeadJobHook } from '../jobs/worker.js';
import type { JobMetrics } from '../metrics/metrics.js';
import { deadJob, JOB_DEAD_EVENT } from '../sessions/dead-job.js';
import { JOB_KINDS } from '../sessions/job-kinds.js';
import type { SessionService } from '../sessions/session-service.js';

/**
 * What every worker of a process does with a job that gave up: it is counted, and when it
 * belongs to a session, the session's timeline says what could not be done and its status
 * comment is brought up to date to say it too, in one transaction. A job of no session (an
 * intent that failed before there was one) stays listed from the jobs table: the dashboard's
 * Failed jobs and `GET /api/jobs/dead`.
 */
export function deadJobReports({
  db,
  sessions,
  metrics,
}: {
  db: Db;
  sessions: Pick<SessionService, 'record' | 'touch'>;
  metrics?: JobMetrics | undefined;
}): DeadJobHook {
  return async (job) => {
    metrics?.jobDead(job.kind);
    const sessionId = job.sessionId;
    if (!sessionId) return;
    const dead = deadJob(job);
    await db.transaction(async (tx) => {
      await sessions.record(sessionId, JOB_DEAD_EVENT, { ...dead }, { tx });
      // A status comment that could not be written would only queue another that fails.
      if (job.kind !== JOB_KINDS.statusComment) await sessions.touch(tx, sessionId);
    });
  };
}
