import { rm } from 'node:fs/promises';
import path from 'node:path';
import { assertBranchName } from '../names.js';
import { exists } from './exists.js';
import { collectedRef, type OwnCheckoutDeps, repositoryOf } from './own-checkout-deps.js';
import { setLease } from './push-lease.js';
import type { RemoveInput } from './workspace-types.js';

/**
 * Workspaces.remove for own checkouts: deletes the folder (links in it are removed, never
 * followed), and the mirror's refs and the runner's record of the session.
 */
export async function removeOwnCheckout(deps: OwnCheckoutDeps, input: RemoveInput): Promise<void> {
  const { sessionId, branch } = input;
  if (branch) assertBranchName(branch);
  const checkout = deps.pathFor(sessionId);
  const id = input.repo?.id ?? (await repositoryOf(deps, sessionId));
  const drop = async () => {
    await rm(checkout, { recursive: true, force: true });
    const mirror = id === null ? null : deps.mirrors.pathOf(id);
    if (mirror && (await exists(mirror))) {
      await deps.git(mirror, ['update-ref', '-d', collectedRef(sessionId)]);
      if (branch) await setLease(deps.git, mirror, branch, null);
    }
    await deps.overlays.discard(sessionId, id);
    await rm(path.join(deps.recordsDir, `${sessionId}.repo`), { force: true });
    deps.log.info({ sessionId }, 'removed the checkout');
  };
  await (id === null ? drop() : deps.mutex.run(id, drop));
}
