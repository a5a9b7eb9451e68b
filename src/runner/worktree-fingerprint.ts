import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Past this many entries a worktree is not walked further: output alone then shows progress. */
const MAX_ENTRIES = 20_000;
/** Folders whose churn says nothing about the agent's work, or that are too big to walk often. */
const SKIPPED = new Set(['.git', 'node_modules']);

/**
 * A cheap summary of a worktree's files (how many, their sizes and the latest change), which
 * differs whenever the agent writes, creates or deletes a file. Read with plain `stat`, never
 * git, so nothing in the worktree's git config runs. A folder that cannot be read counts as empty.
 */
export async function worktreeFingerprint(root: string): Promise<string> {
  let entries = 0;
  let bytes = 0;
  let latest = 0;
  const folders = [root];
  while (folders.length > 0 && entries < MAX_ENTRIES) {
    const folder = folders.pop()!;
    let children: Dirent[];
    try {
      children = await readdir(folder, { withFileTypes: true });
    } catch {
      continue; // removed while walking, or unreadable
    }
    for (const child of children) {
      if (SKIPPED.has(child.name)) continue;
      const full = path.join(folder, child.name);
      entries += 1;
      if (child.isDirectory()) folders.push(full);
      const info = await lstat(full).catch(() => undefined);
      if (!info) continue;
      bytes += info.size;
      latest = Math.max(latest, info.mtimeMs);
    }
  }
  return `${entries}:${bytes}:${latest}`;
}
