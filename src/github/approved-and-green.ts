/** What approved-and-green is decided from: the pull request's reviews and its head's checks. */
export interface ApprovalState {
  /** The commit the session's pull request is at; only approvals of it count. */
  headSha: string;
  /** Every review, oldest first (GitHub's order), with whether its author may drive agents. */
  reviews: { login: string | null; state: string; commitId: string | null; writer: boolean }[];
  checkRuns: { status: string; conclusion: string | null }[];
  /** The combined commit status of the head: how many statuses, and their overall state. */
  statuses: { count: number; state: string };
}

const GREEN_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);

/**
 * Only writers' reviews count, each writer's latest (comments aside; a dismissed review counts
 * as none): approved when a writer approved the head commit and no writer's latest review
 * requests changes. An approval of an older commit approves code that is no longer the head.
 */
export function reviewsApprove(reviews: ApprovalState['reviews'], headSha: string): boolean {
  const latest = new Map<string, ApprovalState['reviews'][number]>();
  for (const r of reviews)
    if (r.login && r.writer && r.state !== 'COMMENTED') latest.set(r.login, r);
  const last = [...latest.values()];
  return (
    last.some((r) => r.state === 'APPROVED' && r.commitId === headSha) &&
    !last.some((r) => r.state === 'CHANGES_REQUESTED')
  );
}

/** Approved, every check run completed green, and every commit status green (or none). */
export function isApprovedAndGreen({
  headSha,
  reviews,
  checkRuns,
  statuses,
}: ApprovalState): boolean {
  if (!reviewsApprove(reviews, headSha)) return false;
  const green = checkRuns.every(
    (c) => c.status === 'completed' && GREEN_CONCLUSIONS.has(c.conclusion ?? ''),
  );
  return green && (statuses.count === 0 || statuses.state === 'success');
}
