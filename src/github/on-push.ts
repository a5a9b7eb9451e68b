import type { IntentOf } from '../sessions/intents.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { splitRepo } from './octokit.js';
import { react } from './react.js';

/** Sessions checked for conflicts per push to a base branch. */
const MAX_CONFLICT_CHECKS = 20;
/** GitHub computes mergeability in the background: looked at again this many times, later. */
const MAX_CHECKS = 3;

/**
 * A push to a base branch: the pull requests of the sessions on it that no longer merge are
 * sent to their agents to resolve.
 */
export async function onPush(
  deps: LifecycleDeps,
  intent: IntentOf<'push'>,
  deliveryId: string,
  check: number,
): Promise<string> {
  const candidates = await deps.store.liveWithPullRequestOn(
    intent.repo.id,
    intent.branch,
    MAX_CONFLICT_CHECKS,
  );
  if (candidates.length === 0) return 'no-session';
  const octokit = await deps.octokitFor(intent.installationId);
  const { owner, repo } = splitRepo(intent.repo.fullName);
  let unknown = 0;
  for (const session of candidates) {
    const { data: pr } = await octokit.rest.pulls.get({
      owner,
      repo,
      pull_number: session.prNumber!,
    });
    if (pr.mergeable === null) unknown += 1;
    if (pr.mergeable !== false) continue;
    await react(deps, session, {
      key: 'merge-conflict',
      deliveryId,
      message: async () =>
        `\`${intent.branch}\` moved on (now ${intent.headSha.slice(0, 7)}) and this pull request no longer merges cleanly. Merge or rebase onto \`origin/${intent.branch}\` (run \`git fetch\` first), resolve the conflicts, run the tests and commit.`,
    });
  }
  if (unknown > 0 && check < MAX_CHECKS) {
    await deps.sessions.enqueueIntent(
      { intent, deliveryId, receivedAt: new Date().toISOString(), check: check + 1 },
      new Date(Date.now() + 15_000 * (check + 1)),
    );
  }
  return `checked ${candidates.length}`;
}
