import { IllegalTransitionError } from '../sessions/illegal-transition.js';
import type { LifecycleEvent } from '../sessions/lifecycle-event.js';
import type { Applied } from '../sessions/session-service.js';
import type { RunnerDeps } from './runner-deps.js';

/**
 * Applies an event from the runner's work; undefined when the session ended meanwhile (stopped
 * while a job was under way), which is a race the runner expects, not a fault.
 */
export async function applyUnlessEnded(
  deps: Pick<RunnerDeps, 'sessions'>,
  sessionId: string,
  event: LifecycleEvent,
): Promise<Applied | undefined> {
  try {
    return await deps.sessions.apply(sessionId, event);
  } catch (error) {
    if (error instanceof IllegalTransitionError && error.ended) return undefined;
    throw error;
  }
}
