import type { Session } from '../db/schema.js';
import { type ApprovalState, reviewsApprove } from './approved-and-green.js';
import type { LifecycleDeps } from './lifecycle-deps.js';
import type { Octokit } from './octokit.js';
import { splitRepo } from './octokit.js';
import { checkSender } from './permissions.js';

/**
 * The reviews of the session's pull request, with whether each reviewer may drive agents, and the
 * checks and statuses of its head; null when it has no pull request or head yet. Roles are asked
 * only of reviewers whose latest review approves or requests changes, and checks only when the
 * writers' reviews approve.
 */
export async function fetchApprovalState(
  deps: Pick<LifecycleDeps, 'operatorConfig' | 'roles'>,
  octokit: Octokit,
  session: Pick<Session, 'repositoryFullName' | 'prNumber' | 'headSha'>,
): Promise<ApprovalState | null> {
  if (!session.prNumber || !session.headSha) return null;
  const { owner, repo } = splitRepo(session.repositoryFullName);
  const listed = await octokit.paginate(octokit.rest.pulls.listReviews, {
    owner,
    repo,
    pull_number: session.prNumber,
    per_page: 100,
  });
  const latest = new Map<string, { state: string; type: string }>();
  for (const r of listed)
    if (r.user && r.state !== 'COMMENTED')
      latest.set(r.user.login, { state: r.state, type: r.user.type });
  const writers = new Set<string>();
  for (const [login, { state, type }] of latest) {
    if (state !== 'APPROVED' && state !== 'CHANGES_REQUESTED') continue;
    const gate = await checkSender(
      octokit,
      session.repositoryFullName,
      { login, type },
      deps.operatorConfig.allowedBots,
      deps.roles,
    );
    if (gate.allowed) writers.add(login);
  }
  const state: ApprovalState = {
    headSha: session.headSha,
    reviews: listed.map((r) => ({
      login: r.user?.login ?? null,
      state: r.state,
      commitId: r.commit_id ?? null,
      writer: r.user ? writers.has(r.user.login) : false,
    })),
    checkRuns: [],
    statuses: { count: 0, state: 'success' },
  };
  if (!reviewsApprove(state.reviews, state.headSha)) return state;
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
