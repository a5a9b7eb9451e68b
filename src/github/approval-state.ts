import type { Session } from '../db/schema.js';
import { type ApprovalState, reviewsApprove } from './approved-and-green.js';
import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';

/**
 * The reviews of the session's pull request and the checks and statuses of its head, or null
 * when it has no pull request or head yet. Checks are asked for only when the reviews approve.
 */
export async function fetchApprovalState(
  octokit: Octokit,
  session: Pick<Session, 'repositoryFullName' | 'prNumber' | 'headSha'>,
): Promise<ApprovalState | null> {
  if (!session.prNumber || !session.headSha) return null;
  const { owner, repo } = splitRepo(session.repositoryFullName);
  const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
    owner,
    repo,
    pull_number: session.prNumber,
    per_page: 100,
  });
  const state: ApprovalState = {
    reviews: reviews.map((r) => ({ login: r.user?.login ?? null, state: r.state })),
    checkRuns: [],
    statuses: { count: 0, state: 'success' },
  };
  if (!reviewsApprove(state.reviews)) return state;
  const checkRuns = await octokit.paginate(octokit.rest.checks.listForRef, {
    owner,
    repo,
    ref: session.headSha,
    per_page: 100,
  });
  state.checkRuns = checkRuns.map((c) => ({ status: c.status, conclusion: c.conclusion }));
  const { data: combined } = await octokit.rest.repos.getCombinedStatusForRef({
    owner,
    repo,
    ref: session.headSha,
  });
  state.statuses = { count: combined.total_count, state: combined.state };
  return state;
}
