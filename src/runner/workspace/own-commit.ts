import { explain } from './explain.js';
import type { OwnCheckoutDeps } from './own-checkout-deps.js';
import { collectAgentWork, ownCheckout } from './own-collect.js';
import { runInCheckout } from './sandboxed-git.js';
import { WorkspaceError } from './workspace-error.js';
import type { CommitInput, GitIdentity } from './workspace-types.js';

// Stages everything and commits it unless nothing is staged; prints the new commit.
const COMMIT_LEFTOVERS = `set -e
git -c core.hooksPath=/dev/null add --all
if git diff --cached --quiet; then exit 0; fi
git -c core.hooksPath=/dev/null -c commit.gpgSign=false commit --quiet --no-verify --message="$1"
git rev-parse HEAD`;

/**
 * Workspaces.commitAll for own checkouts: `git add --all` and a commit, run in the session's
 * sandbox (the agent's filters and config apply there, with its authority only); then the commit
 * is taken into the mirror. The new sha, or null when nothing changed.
 */
export async function commitOwnCheckout(
  deps: OwnCheckoutDeps,
  input: CommitInput,
  identity: GitIdentity,
): Promise<string | null> {
  const { sessionId, message } = input;
  if (!message.trim()) throw new WorkspaceError('a commit message is required', { sessionId });
  const place = await ownCheckout(deps, sessionId);
  return explain(
    { sessionId },
    `could not commit the changes of session ${sessionId}`,
    async () => {
      const printed = await runInCheckout(deps, {
        ...place,
        script: COMMIT_LEFTOVERS,
        args: [message],
        identity,
      });
      if (!printed.trim()) return null;
      const sha = await collectAgentWork(deps, sessionId, identity);
      deps.log.info({ sessionId, sha }, 'committed the changes left in the checkout');
      return sha;
    },
  );
}
