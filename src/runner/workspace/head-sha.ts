import { existingWorktree } from './existing-worktree.js';
import { explain } from './explain.js';
import { resolveRef } from './resolve-ref.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import { WorkspaceError } from './workspace-error.js';

/** The commit checked out in the session's worktree. */
export async function headSha(deps: WorkspaceDeps, sessionId: string): Promise<string> {
  const worktree = await existingWorktree(deps, sessionId);
  return explain({ sessionId }, `could not read the head of session ${sessionId}`, async () => {
    const sha = await resolveRef(deps.git, worktree, 'HEAD');
    if (!sha)
      throw new WorkspaceError(`session ${sessionId} has no commit checked out`, { sessionId });
    return sha;
  });
}
