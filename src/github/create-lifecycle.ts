import type { JobHandler } from '../jobs/worker.js';
import { JOB_KINDS } from '../sessions/job-kinds.js';
import { intentJob } from './intent-job.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { reactionJob } from './reaction-job.js';
import { statusCommentJob } from './status-comment-job.js';

/**
 * The GitHub side of the session lifecycle, as job handlers: webhook intents and the runner's
 * reports decide what happens next; status comments tell people. Every handler is a function of
 * its deps, so a test can run one with its own.
 */
export function createLifecycle(deps: LifecycleDeps): {
  handlers: Record<string, JobHandler>;
  statusComments: Record<string, JobHandler>;
} {
  return {
    handlers: { [JOB_KINDS.intent]: intentJob(deps), [JOB_KINDS.reaction]: reactionJob(deps) },
    statusComments: { [JOB_KINDS.statusComment]: statusCommentJob(deps) },
  };
}
