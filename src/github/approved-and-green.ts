/** What approved-and-green is decided from: the pull request's reviews and its head's checks. */
export interface ApprovalState {
  /** Every review, oldest first (GitHub's order). */
  reviews: { login: string | null; state: string }[];
  checkRuns: { status: string; conclusion: string | null }[];
  /** The combined commit status of the head: how many statuses, and their overall state. */
  statuses: { count: number; state: string };
}

const GREEN_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);

/** Each reviewer's latest review counts (comments aside): one approval and no change request. */
export function reviewsApprove(reviews: ApprovalState['reviews']): boolean {
  const latest = new Map<string, string>();
  for (const r of reviews) if (r.login && r.state !== 'COMMENTED') latest.set(r.login, r.state);
  const states = [...latest.values()];
  return states.includes('APPROVED') && !states.includes('CHANGES_REQUESTED');
}

/** Approved, every check run completed green, and every commit status green (or none). */
export function isApprovedAndGreen({ reviews, checkRuns, statuses }: ApprovalState): boolean {
  if (!reviewsApprove(reviews)) return false;
  const green = checkRuns.every(
    (c) => c.status === 'completed' && GREEN_CONCLUSIONS.has(c.conclusion ?? ''),
  );
  return green && (statuses.count === 0 || statuses.state === 'success');
}
