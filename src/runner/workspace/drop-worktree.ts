import { rm } from 'node:fs/promises';
import type { WorkspaceDeps } from './workspace-deps.js';

/** Deletes a worktree's folder and git's record of it (the caller holds the repository lock). */
export async function dropWorktree(
  { git, overlays }: WorkspaceDeps,
  mirror: string,
  worktree: string,
  sessionId: string,
  id: number,
): Promise<void> {
  if (overlays) {
    await overlays.unmount(worktree);
    await git(mirror, ['worktree', 'unlock', worktree], { okExitCodes: [128] });
  }
  // Fails when it is already gone or holds submodules; the folder is removed below anyway.
  await git(mirror, ['worktree', 'remove', '--force', '--force', worktree], {
    okExitCodes: [128],
  });
  await rm(worktree, { recursive: true, force: true });
  await git(mirror, ['worktree', 'prune']);
  await overlays?.discard(sessionId, id);
}
