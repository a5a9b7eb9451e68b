import type { Logger } from 'pino';
import { assertBranchName } from '../names.js';
import { deleteWorktreeFolder } from './delete-worktree-folder.js';
import { dropWorktree } from './drop-worktree.js';
import { exists } from './exists.js';
import { explain } from './explain.js';
import { listedPath } from './listed-path.js';
import { mirrorIdOf } from './mirror-id-of.js';
import { repoLabel } from './mirrors.js';
import { setLease } from './push-lease.js';
import { resolveRef } from './resolve-ref.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import type { RemoveInput } from './workspace-types.js';

// A worktree being removed from the mirror it belongs to.
interface Removing {
  mirror: string;
  worktree: string;
  sessionId: string;
  id: number;
  branch: string | null | undefined;
  log: Logger;
}

/**
 * Workspaces.remove: deletes the folder and overlay layers always, and git's record of the
 * worktree, the branch and its lease when the mirror is there.
 */
export async function removeWorktree(deps: WorkspaceDeps, input: RemoveInput): Promise<void> {
  const { sessionId, repo, branch } = input;
  const { overlays } = deps;
  const worktree = deps.pathFor(sessionId);
  if (branch) assertBranchName(branch);
  const id = repo?.id ?? (await mirrorIdOf(deps, worktree));
  const context = {
    repo: repo ? repoLabel(repo) : undefined,
    sessionId,
    branch: branch ?? undefined,
  };
  const log = deps.log.child(context);
  if (id === null) {
    await deleteWorktreeFolder(overlays, worktree);
    await overlays?.discard(sessionId, null);
    return;
  }
  const mirror = deps.mirrors.pathOf(id);
  await deps.mutex.run(id, () =>
    explain(context, `could not remove the worktree of session ${sessionId}`, async () => {
      if (await exists(mirror)) {
        await forgetWorktree(deps, { mirror, worktree, sessionId, id, branch, log });
      }
      await deleteWorktreeFolder(overlays, worktree);
      await overlays?.discard(sessionId, id);
      log.info('removed the worktree');
    }),
  );
}

// Drops git's record of the worktree, then its local branch (unless another worktree has it)
// and the branch's lease; the branch is read from the worktree when not given.
async function forgetWorktree(deps: WorkspaceDeps, removing: Removing): Promise<void> {
  const { git, mirrors } = deps;
  const { mirror, worktree, log } = removing;
  const listed = await listedPath(worktree);
  const branch =
    removing.branch ??
    (await mirrors.worktrees(mirror)).find((entry) => entry.path === listed)?.branch;
  await dropWorktree(deps, mirror, worktree, removing.sessionId, removing.id);
  if (branch && (await resolveRef(git, mirror, `refs/heads/${branch}`))) {
    const holder = (await mirrors.worktrees(mirror)).find((entry) => entry.branch === branch);
    if (holder) log.warn({ holder: holder.path }, 'kept the branch: another worktree has it');
    else await git(mirror, ['branch', '-D', branch]);
  }
  if (branch) await setLease(git, mirror, branch, null);
}
