import { IllegalTransitionError } from '../sessions/illegal-transition.js';
import type { LifecycleDeps } from './lifecycle-deps.js';

/**
 * Stops the issue's session when nothing came of it yet: a session with a pull request lives on
 * until the pull request is merged or closed.
 */
export async function stopWithoutPr(
  deps: Pick<LifecycleDeps, 'sessions' | 'store'>,
  repositoryId: number,
  issueNumber: number,
  stop: { reason: string; by: string },
): Promise<string> {
  const session = await deps.store.liveOnIssue(repositoryId, issueNumber);
  if (!session) return 'no-session';
  if (session.prNumber) return 'kept: has a pull request';
  try {
    await deps.sessions.apply(session.id, {
      type: 'stop-requested',
      status: 'closed',
      reason: stop.reason,
      cleanup: true,
      by: stop.by,
    });
  } catch (error) {
    if (error instanceof IllegalTransitionError && error.ended) return 'no-session';
    throw error;
  }
  return 'stopped';
}
