import { mkdir, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { assertBranchName } from '../names.js';
import { deleteWorktreeFolder } from './delete-worktree-folder.js';
import { dropWorktree } from './drop-worktree.js';
import { exists } from './exists.js';
import { explain } from './explain.js';
import { listedPath } from './listed-path.js';
import { repoLabel, type WorktreeEntry } from './mirrors.js';
import { overlayDone } from './overlay-done.js';
import { setLease } from './push-lease.js';
import { resolveRef } from './resolve-ref.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import { WorkspaceError, type WorkspaceErrorContext } from './workspace-error.js';
import type { CreatedWorkspace, CreateInput } from './workspace-types.js';

// One worktree being made, from a freshly fetched mirror.
interface Making {
  input: CreateInput;
  worktree: string;
  mirror: string;
  baseSha: string;
  context: WorkspaceErrorContext;
  log: Logger;
}

/**
 * Workspaces.create: under the repository's lock, fetches the mirror, returns the worktree a
 * retried spawn already made, clears what a failed one left, then adds the worktree.
 */
export async function createWorktree(
  deps: WorkspaceDeps,
  input: CreateInput,
): Promise<CreatedWorkspace> {
  const { sessionId, repo, branch, baseBranch } = input;
  const worktree = deps.pathFor(sessionId);
  assertBranchName(branch);
  assertBranchName(baseBranch);
  const context = { repo: repoLabel(repo), sessionId, branch };
  const log = deps.log.child(context);
  return deps.mutex.run(repo.id, () =>
    explain(context, `could not prepare a worktree for ${repoLabel(repo)}`, async () => {
      const mirror = await deps.mirrors.update(repo, input.auth);
      await deps.git(mirror, ['worktree', 'prune']);
      const baseSha = await resolveRef(deps.git, mirror, `refs/remotes/origin/${baseBranch}`);
      if (!baseSha) {
        throw new WorkspaceError(
          `base branch '${baseBranch}' does not exist in ${repoLabel(repo)}`,
          context,
        );
      }
      await mkdir(deps.sessionsDir, { recursive: true });
      return make(deps, { input, worktree, mirror, baseSha, context, log });
    }),
  );
}

async function make(deps: WorkspaceDeps, making: Making): Promise<CreatedWorkspace> {
  const { input, worktree, mirror, log } = making;
  let present = await deps.mirrors.worktrees(mirror);
  const listed = await listedPath(worktree);
  const mine = present.find((entry) => entry.path === listed);
  if (mine && deps.overlays && !(await exists(overlayDone(deps.overlays, input.sessionId)))) {
    // A spawn that stopped half way through making the overlay: made again from the start.
    log.warn({ path: worktree }, 'removing a half-made overlay worktree');
    await dropWorktree(deps, mirror, worktree, input.sessionId, input.repo.id);
    present = await deps.mirrors.worktrees(mirror);
  } else if (mine) {
    return reuse(deps, making, mine);
  }
  const holder = present.find((entry) => entry.branch === input.branch);
  if (holder) {
    throw new WorkspaceError(
      `branch '${input.branch}' is already checked out in another worktree (${holder.path})`,
      making.context,
    );
  }
  await clearLeftovers(deps, making);
  return addWorktree(deps, making);
}

// A retried spawn: the worktree is already there.
async function reuse(
  { git, overlays }: WorkspaceDeps,
  { input, worktree, baseSha, context }: Making,
  mine: WorktreeEntry,
): Promise<CreatedWorkspace> {
  if (mine.branch !== input.branch) {
    throw new WorkspaceError(
      `the worktree of session ${input.sessionId} is on '${mine.branch ?? 'a detached HEAD'}', not '${input.branch}'`,
      context,
    );
  }
  await overlays?.mount(input.sessionId, worktree, input.repo.id);
  const headSha = await resolveRef(git, worktree, 'HEAD');
  return { path: worktree, baseSha, headSha: headSha ?? baseSha };
}

// What an earlier spawn may have left without a worktree: a folder, a local branch.
async function clearLeftovers(
  { git, overlays }: WorkspaceDeps,
  { input, worktree, mirror, log }: Making,
): Promise<void> {
  if (await exists(worktree)) {
    log.warn({ path: worktree }, 'removing a leftover folder that is not a worktree');
    await deleteWorktreeFolder(overlays, worktree);
  }
  const leftover = await resolveRef(git, mirror, `refs/heads/${input.branch}`);
  if (leftover) {
    log.warn({ sha: leftover }, 'deleting a leftover local branch with no worktree');
    await git(mirror, ['branch', '-D', input.branch]);
  }
}

// The branch starts from its pushed commit on a respawn, from the base otherwise.
async function addWorktree(
  { git, overlays }: WorkspaceDeps,
  { input, worktree, mirror, baseSha, log }: Making,
): Promise<CreatedWorkspace> {
  const { sessionId, repo, branch, baseBranch } = input;
  const pushedSha = await resolveRef(git, mirror, `refs/remotes/origin/${branch}`);
  const headSha = pushedSha ?? baseSha;
  const start = `refs/remotes/origin/${pushedSha ? branch : baseBranch}`;
  await git(mirror, [
    'worktree',
    'add',
    '--quiet',
    '--no-track',
    // An overlay worktree's .git lives in its upper layer, out of sight while unmounted:
    // locked, so that `worktree prune` never takes it for gone.
    ...(overlays ? ['--no-checkout', '--lock'] : []),
    '-b',
    branch,
    worktree,
    start,
  ]);
  if (overlays) {
    await overlays.add({ mirror, repoId: repo.id, sessionId, worktree, startSha: headSha });
    await writeFile(overlayDone(overlays, sessionId), `${headSha}\n`);
  }
  await setLease(git, mirror, branch, pushedSha);
  log.info(
    { path: worktree, baseSha, headSha, respawn: pushedSha !== null },
    'created the worktree',
  );
  return { path: worktree, baseSha, headSha };
}
