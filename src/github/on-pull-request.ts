import type { IntentOf } from '../sessions/intents.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { react } from './react.js';

/**
 * A session's pull request opened, updated or closed: its number and head are linked to the
 * session; merged, the session cleans up; closed unmerged, it stops. A pull request is the
 * session's by its number, or by the session's branch; one from a fork never is.
 */
export async function onPullRequest(
  deps: LifecycleDeps,
  intent: IntentOf<'pr-opened' | 'pr-updated' | 'pr-closed'>,
  deliveryId: string,
): Promise<string> {
  // A fork copies branch names (a session's is public, in its status comment): a fork's pull
  // request is never a session's, whatever its branch is called.
  if (intent.fromFork) return 'fork';
  const repoId = intent.repo.id;
  const session =
    (await deps.store.liveOnPullRequest(repoId, intent.prNumber)) ??
    (await deps.store.liveOnBranch(repoId, intent.branch));
  if (!session) return 'no-session';
  if (intent.kind === 'pr-closed') {
    const key = intent.merged ? 'merged' : 'pr-closed';
    await react(deps, session, { key, deliveryId, by: intent.sender.login });
    return key;
  }
  await deps.sessions.apply(
    session.id,
    { type: 'pr-linked', kind: intent.kind, prNumber: intent.prNumber, headSha: intent.headSha },
    { deliveryId },
  );
  return 'linked';
}
