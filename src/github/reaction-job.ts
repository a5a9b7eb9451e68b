import { defineJob } from '../jobs/define-job.js';
import { reactionJobPayload } from '../sessions/job-kinds.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { react } from './react.js';

/** What the runner saw (a failed or stuck turn), for the reaction rules. */
export function reactionJob(deps: LifecycleDeps) {
  return defineJob(reactionJobPayload, async ({ sessionId, key, detail }) => {
    const session = await deps.store.find(sessionId);
    // What happened goes with the rule's message when the rule sends the agent one (a retry).
    if (session) await react(deps, session, { key, message: async () => detail });
  });
}
