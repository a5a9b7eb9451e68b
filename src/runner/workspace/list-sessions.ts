import { readdir } from 'node:fs/promises';
import { assertSessionId } from '../names.js';

/** Session ids with a worktree folder in sessionsDir, sorted; none when the folder is missing. */
export async function listSessions(sessionsDir: string): Promise<string[]> {
  const entries = await readdir(sessionsDir, { withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((entry) => entry.isDirectory() && isSessionId(entry.name))
    .map((entry) => entry.name)
    .sort();
}

function isSessionId(name: string): boolean {
  try {
    assertSessionId(name);
    return true;
  } catch {
    return false;
  }
}
