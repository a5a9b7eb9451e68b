import type { Session } from '../db/schema.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import { splitRepo } from './octokit.js';

/**
 * Merges the session's pull request, at the head the checks were green on. A refusal (a required
 * check, a branch protection) becomes a notification with GitHub's reason.
 */
export async function autoMerge(
  deps: Pick<LifecycleDeps, 'sessions' | 'octokitFor'>,
  session: Session,
  method: 'merge' | 'squash' | 'rebase',
): Promise<void> {
  const octokit = await deps.octokitFor(session.installationId!);
  const { owner, repo } = splitRepo(session.repositoryFullName);
  try {
    await octokit.rest.pulls.merge({
      owner,
      repo,
      pull_number: session.prNumber!,
      merge_method: method,
      ...(session.headSha ? { sha: session.headSha } : {}),
    });
    await deps.sessions.record(session.id, 'merge-requested', { method });
  } catch (error) {
    const why =
      (error as { response?: { data?: { message?: string } } }).response?.data?.message ??
      (error as Error).message;
    await deps.sessions.notify({
      sessionId: session.id,
      reason: 'merge-refused',
      text: `The pull request is approved and green, but GitHub refused to merge it: ${why}`,
    });
  }
}
