import { assertBranchName } from '../names.js';
import { explain } from './explain.js';
import { repoLabel } from './mirrors.js';
import { collectedRef, type OwnCheckoutDeps } from './own-checkout-deps.js';
import { collectAgentWork, ownCheckout } from './own-collect.js';
import { pushSource } from './push-branch.js';
import { setLease } from './push-lease.js';
import { WorkspaceError } from './workspace-error.js';
import type { GitIdentity, PushInput, PushResult } from './workspace-types.js';

/**
 * Workspaces.push for own checkouts: takes the agent's commits into the mirror, then pushes them
 * from the mirror, whose configuration only the runner writes, with the branch's lease.
 */
export async function pushOwnCheckout(
  deps: OwnCheckoutDeps,
  input: PushInput,
  identity: GitIdentity,
): Promise<PushResult> {
  const { sessionId, repo, branch } = input;
  assertBranchName(branch);
  const context = { repo: repoLabel(repo), sessionId, branch };
  const { repositoryId, mirror } = await ownCheckout(deps, sessionId);
  if (repositoryId !== repo.id) {
    throw new WorkspaceError(
      `the checkout of session ${sessionId} belongs to another repository`,
      context,
    );
  }
  const headSha = await collectAgentWork(deps, sessionId, identity);
  return deps.mutex.run(repo.id, () =>
    explain(context, `could not push '${branch}' to ${repoLabel(repo)}`, async () => {
      const status = await pushSource(deps, mirror, input, collectedRef(sessionId), context);
      await setLease(deps.git, mirror, branch, headSha);
      await deps.git(mirror, ['update-ref', `refs/remotes/origin/${branch}`, headSha]);
      const pushed = status[0] !== '=';
      deps.log.info(
        { ...context, headSha, pushed, forced: status[0] === '+' },
        'pushed the branch',
      );
      return { headSha, pushed };
    }),
  );
}
