import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** A worktree's path as git lists it: with symlinks in the folders above it resolved. */
export async function listedPath(worktree: string): Promise<string> {
  const parent = await realpath(path.dirname(worktree)).catch(() => path.dirname(worktree));
  return path.join(parent, path.basename(worktree));
}
