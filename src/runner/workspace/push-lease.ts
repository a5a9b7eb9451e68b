import type { Git } from './workspace-types.js';

/** What the runner last pushed (or found pushed) per branch: the lease for the next push. */
export const leaseRef = (branch: string) => `refs/orchestrator/pushed/${branch}`;

/** Records sha as the branch's lease; null forgets it (the next push is a plain one). */
export async function setLease(
  git: Git,
  cwd: string,
  branch: string,
  sha: string | null,
): Promise<void> {
  await git(
    cwd,
    sha ? ['update-ref', leaseRef(branch), sha] : ['update-ref', '-d', leaseRef(branch)],
  );
}
