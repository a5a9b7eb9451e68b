import { exists } from './exists.js';
import { mirrorIdOf } from './mirror-id-of.js';
import { overlayDone } from './overlay-done.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import { WorkspaceError } from './workspace-error.js';

/** The session's worktree folder (an overlay mounted again if need be), or a WorkspaceError. */
export async function existingWorktree(deps: WorkspaceDeps, sessionId: string): Promise<string> {
  const { overlays, mutex, log } = deps;
  const worktree = deps.pathFor(sessionId);
  if (!(await exists(worktree))) throw noWorktree(sessionId);
  if (overlays && !(await overlays.isMounted(worktree))) {
    const id = await mirrorIdOf(deps, worktree);
    if (id === null || !(await exists(overlayDone(overlays, sessionId)))) {
      throw noWorktree(sessionId);
    }
    await mutex.run(id, () => overlays.mount(sessionId, worktree, id));
    log.info({ sessionId }, 'mounted the overlay worktree again');
  }
  return worktree;
}

const noWorktree = (sessionId: string) =>
  new WorkspaceError(`session ${sessionId} has no worktree`, { sessionId });
