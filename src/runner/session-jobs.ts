import { defineJob } from '../jobs/define-job.js';
import type { JobHandler } from '../jobs/worker.js';
import { JOB_KINDS, sessionJobPayload, stopJobPayload } from '../sessions/job-kinds.js';
import { oneJobPerSession } from './one-job-per-session.js';
import { runNextTurn } from './run-next-turn.js';
import type { RunnerDeps } from './runner-deps.js';
import { spawnSession } from './spawn-session.js';
import { stopSession } from './stop-session.js';

/**
 * The runner's job handlers. A turn job holds its worker slot while the agent runs, which is how
 * MAX_SESSIONS caps running sessions; turn jobs for one session never overlap (the session row
 * is locked while a turn is chosen, and a unique index allows one unfinished turn).
 */
export function createSessionJobs(deps: RunnerDeps): {
  handlers: Record<string, JobHandler>;
  controlHandlers: Record<string, JobHandler>;
} {
  const exclusively = oneJobPerSession((sessionId) =>
    deps.sessions.enqueueTurn(sessionId, deps.runnerId),
  );
  return {
    handlers: {
      [JOB_KINDS.spawn]: defineJob(sessionJobPayload, ({ sessionId }, context) =>
        exclusively(sessionId, () => spawnSession(deps, sessionId, context)),
      ),
      [JOB_KINDS.turn]: defineJob(sessionJobPayload, ({ sessionId }, context) =>
        exclusively(sessionId, () => runNextTurn(deps, sessionId, false, context)),
      ),
    },
    controlHandlers: {
      [JOB_KINDS.stop]: defineJob(stopJobPayload, (stop) => stopSession(deps, stop)),
    },
  };
}
