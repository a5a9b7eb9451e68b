import type { IntentOf } from '../sessions/intents.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { react } from './react.js';

/**
 * A session's pull request opened, updated or closed: its number and head are linked to the
 * session; merged, the session cleans up; closed unmerged, it stops. A pull request is the
 * session's by its number, or by the session's branch when it opened in the base repository.
 */
export async function onPullRequest(
  deps: LifecycleDeps,
  intent: IntentOf<'pr-opened' | 'pr-updated' | 'pr-closed'>,
  deliveryId: string,
): Promise<string> {
  const repoId = intent.repo.id;
  const session =
    (await deps.store.liveOnPullRequest(repoId, intent.prNumber)) ??
    (await deps.store.liveOnBranch(repoId, intent.branch));
  if (!session) return 'no-session';
  if (intent.kind === 'pr-closed') {
    const key = intent.merged ? 'merged' : 'pr-closed';
    await react(deps, session, { key, deliveryId });
    return key;
  }
  if (intent.fromFork) return 'fork';
  await deps.sessions.apply(
    session.id,
    { type: 'pr-linked', kind: intent.kind, prNumber: intent.prNumber, headSha: intent.headSha },
    { deliveryId },
  );
  return 'linked';
}
