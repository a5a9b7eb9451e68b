import { existingWorktree } from './existing-worktree.js';
import { explain } from './explain.js';
import { resolveRef } from './resolve-ref.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import { WorkspaceError } from './workspace-error.js';
import type { CommitInput } from './workspace-types.js';

/** Workspaces.commitAll: `git add --all`, then a commit without hooks unless nothing is staged. */
export async function commitAll(deps: WorkspaceDeps, input: CommitInput): Promise<string | null> {
  const { sessionId, message } = input;
  const { git, log } = deps;
  const worktree = await existingWorktree(deps, sessionId);
  if (!message.trim()) throw new WorkspaceError('a commit message is required', { sessionId });
  return explain(
    { sessionId },
    `could not commit the changes of session ${sessionId}`,
    async () => {
      await git(worktree, ['add', '--all']);
      const { exitCode } = await git(worktree, ['diff', '--cached', '--quiet'], {
        okExitCodes: [1],
      });
      if (exitCode === 0) return null;
      await git(worktree, ['commit', '--quiet', '--no-verify', `--message=${message}`], {
        config: ['commit.gpgSign=false'],
      });
      const sha = await resolveRef(git, worktree, 'HEAD');
      log.info({ sessionId, sha }, 'committed the changes left in the worktree');
      return sha;
    },
  );
}
