import { rm } from 'node:fs/promises';
import type { Overlays } from './overlays.js';

/** Deletes a worktree's folder, unmounting its overlay first; nothing there is not an error. */
export async function deleteWorktreeFolder(
  overlays: Overlays | null,
  worktree: string,
): Promise<void> {
  await overlays?.unmount(worktree);
  await rm(worktree, { recursive: true, force: true });
}
