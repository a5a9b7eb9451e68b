import { assertBranchName } from '../names.js';
import { existingWorktree } from './existing-worktree.js';
import { explain } from './explain.js';
import { GitCommandError } from './git-command.js';
import { repoLabel } from './mirrors.js';
import { leaseRef, setLease } from './push-lease.js';
import { resolveRef } from './resolve-ref.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import {
  PushRejectedError,
  WorkspaceError,
  type WorkspaceErrorContext,
} from './workspace-error.js';
import type { PushInput, PushResult } from './workspace-types.js';

// git's reasons for refusing a push, in plain words.
const REJECTIONS: Record<string, string> = {
  'stale info': 'the branch changed on the remote since this runner last pushed it',
  'fetch first': 'the branch on the remote has commits the worktree does not have',
  'non-fast-forward': 'the branch on the remote has commits the worktree does not have',
};

/** Workspaces.push: pushes with the branch's lease, then moves the lease and `origin/<branch>`. */
export async function pushBranch(deps: WorkspaceDeps, input: PushInput): Promise<PushResult> {
  const { sessionId, repo, branch } = input;
  const { git, log } = deps;
  assertBranchName(branch);
  const worktree = await existingWorktree(deps, sessionId);
  const context = { repo: repoLabel(repo), sessionId, branch };
  return explain(context, `could not push '${branch}' to ${repoLabel(repo)}`, async () => {
    const headSha = await resolveRef(git, worktree, 'HEAD');
    if (!headSha) throw new WorkspaceError(`session ${sessionId} has no commit to push`, context);
    const status = await pushSource(deps, worktree, input, 'HEAD', context);
    await setLease(git, worktree, branch, headSha);
    await git(worktree, ['update-ref', `refs/remotes/origin/${branch}`, headSha]);
    const pushed = status[0] !== '=';
    log.info({ ...context, headSha, pushed, forced: status[0] === '+' }, 'pushed the branch');
    return { headSha, pushed };
  });
}

/**
 * Pushes `source` (a ref of the repository at cwd) to the branch, with the branch's lease; git's
 * porcelain status of the branch's ref, as its tab-separated fields.
 */
export async function pushSource(
  { git, mirrors }: Pick<WorkspaceDeps, 'git' | 'mirrors'>,
  cwd: string,
  { repo, branch, auth }: PushInput,
  source: string,
  context: WorkspaceErrorContext,
): Promise<string[]> {
  const target = `refs/heads/${branch}`;
  // The agent may rebase, so the push may rewrite the branch, but only from the commit this
  // runner last saw there; a plain push when it knows none (nothing is overwritten then).
  const lease = await resolveRef(git, cwd, leaseRef(branch));
  const result = await mirrors.remote(
    cwd,
    repo,
    auth,
    [
      'push',
      '--porcelain',
      '--no-verify',
      ...(lease ? [`--force-with-lease=${target}:${lease}`] : []),
      repo.cloneUrl,
      `${source}:${target}`,
    ],
    [1],
  );
  const status = result.stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .find((fields) => fields[1] === `${source}:${target}`);
  if (status?.[0] === '!') {
    const why = status[2] ?? '';
    const plain = Object.entries(REJECTIONS).find(([key]) => why.includes(key))?.[1];
    throw new PushRejectedError(
      `push of '${branch}' to ${repoLabel(repo)} was rejected: ${plain ? `${plain} (${why})` : why}`,
      context,
    );
  }
  if (result.exitCode !== 0 || !status) {
    throw new GitCommandError(['push'], result.exitCode, result.stderr);
  }
  return status;
}
