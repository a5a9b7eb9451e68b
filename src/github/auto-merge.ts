import type { Session } from '../db/schema.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { splitRepo } from './octokit.js';

/** GitHub's mergeable states that let a merge through (`unstable`: a check not required failed). */
const MERGEABLE_STATES = new Set(['clean', 'has_hooks', 'unstable']);

/**
 * Merges the session's pull request when GitHub says it can be merged, at the head the checks
 * were green and the approval was on: a push in between makes GitHub refuse the merge rather than
 * merge code nobody saw. Not mergeable, or refused, the people are told why.
 */
export async function autoMerge(
  deps: Pick<LifecycleDeps, 'sessions' | 'octokitFor'>,
  session: Session,
  method: 'merge' | 'squash' | 'rebase',
): Promise<void> {
  const octokit = await deps.octokitFor(session.installationId!);
  const { owner, repo } = splitRepo(session.repositoryFullName);
  const tell = (text: string) =>
    deps.sessions.notify({ sessionId: session.id, reason: 'merge-refused', text });
  const { data: pr } = await octokit.rest.pulls.get({
    owner,
    repo,
    pull_number: session.prNumber!,
  });
  if (pr.mergeable !== true || !MERGEABLE_STATES.has(pr.mergeable_state)) {
    const state = pr.mergeable === null ? 'not computed yet' : pr.mergeable_state;
    await tell(
      `The pull request is approved and green, but GitHub does not allow merging it (mergeable state: ${state}), so I did not merge it.`,
    );
    return;
  }
  try {
    await octokit.rest.pulls.merge({
      owner,
      repo,
      pull_number: session.prNumber!,
      merge_method: method,
      ...(session.headSha ? { sha: session.headSha } : {}),
    });
    await deps.sessions.record(session.id, 'merge-requested', { method, sha: session.headSha });
  } catch (error) {
    const why =
      (error as { response?: { data?: { message?: string } } }).response?.data?.message ??
      (error as Error).message;
    await tell(`The pull request is approved and green, but GitHub refused to merge it: ${why}`);
  }
}
