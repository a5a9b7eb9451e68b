import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkspaceDeps } from './workspace-deps.js';

/** The repository id of the mirror a worktree folder belongs to, read from its `.git` file. */
export async function mirrorIdOf(
  { mirrors, overlays }: WorkspaceDeps,
  worktree: string,
): Promise<number | null> {
  const sessionId = path.basename(worktree);
  const gitFile =
    (await readOrEmpty(path.join(worktree, '.git'))) ||
    // An overlay worktree that is not mounted keeps its .git in its upper layer.
    (overlays ? await readOrEmpty(path.join(overlays.layersOf(sessionId), 'upper', '.git')) : '');
  const gitDir = /^gitdir: (.+)$/m.exec(gitFile)?.[1];
  return gitDir ? mirrors.idOf(path.resolve(worktree, gitDir)) : null;
}

const readOrEmpty = (file: string) => readFile(file, 'utf8').catch(() => '');
