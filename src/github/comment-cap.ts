/**
 * How much of an issue's discussion the first prompt carries: at most this many comments and this
 * many characters of their visible text. GitHub caps one comment at 65,536 characters, so the
 * comment that triggered the session always fits.
 */
export const COMMENT_CAP = { comments: 50, chars: 100_000 } as const;

export interface CapCandidate {
  body: string;
  trusted: boolean;
  /** The trigger itself (the `/agent` comment, the operator's message): always kept. */
  pinned: boolean;
}

/**
 * The comments that fit the cap, in their order, and how many did not. What is kept first: the
 * pinned ones, then writers' comments newest first, then everyone else's newest first; one that
 * would go over the characters left is skipped, and a smaller, older one may still fit.
 */
export function withinCap<T extends CapCandidate>(
  comments: readonly T[],
  cap: { comments: number; chars: number } = COMMENT_CAP,
): { kept: T[]; overCap: number } {
  const rank = (c: T) => (c.pinned ? 0 : c.trusted ? 1 : 2);
  const newestFirst = comments.map((_, i) => comments.length - 1 - i);
  const order = newestFirst.sort((a, b) => rank(comments[a]!) - rank(comments[b]!));
  const keep = new Set<number>();
  let chars = 0;
  for (const i of order) {
    const c = comments[i]!;
    if (keep.size >= cap.comments && !c.pinned) break;
    if (!c.pinned && chars + c.body.length > cap.chars) continue;
    keep.add(i);
    chars += c.body.length;
  }
  const kept = comments.filter((_, i) => keep.has(i));
  return { kept, overCap: comments.length - kept.length };
}
