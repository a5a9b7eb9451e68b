import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { exists } from './exists.js';
import { explain } from './explain.js';
import { collectedRef, type OwnCheckoutDeps, repositoryOf } from './own-checkout-deps.js';
import { resolveRef } from './resolve-ref.js';
import { type CheckoutPlace, inCheckoutSandbox } from './sandboxed-git.js';
import { WorkspaceError } from './workspace-error.js';
import type { GitIdentity } from './workspace-types.js';

/** A checkout the runner made, and the mirror it borrows from. */
export async function ownCheckout(
  deps: OwnCheckoutDeps,
  sessionId: string,
): Promise<CheckoutPlace & { repositoryId: number; gitDir: string }> {
  const checkout = deps.pathFor(sessionId);
  const repositoryId = await repositoryOf(deps, sessionId);
  if (repositoryId === null || !(await exists(checkout))) {
    throw new WorkspaceError(`session ${sessionId} has no checkout`, { sessionId });
  }
  const layers = await deps.overlays.layersFor(sessionId, repositoryId);
  return {
    checkout,
    mirror: deps.mirrors.pathOf(repositoryId),
    repositoryId,
    layers,
    // An overlay checkout's `.git` is in its upper layer: the folder itself is only mounted in a sandbox.
    gitDir: path.join(layers?.upper ?? checkout, '.git'),
  };
}

/**
 * Takes the checkout's HEAD into the mirror (`refs/orchestrator/sessions/<id>`), and returns it:
 * a fetch from the checkout whose upload-pack runs in the session's sandbox, where whatever the
 * agent planted (an alternates file pointing at another mirror, a `commondir`, a `.git` file)
 * sees only what the agent saw. The objects are checked on the way in.
 */
export async function collectAgentWork(
  deps: OwnCheckoutDeps,
  sessionId: string,
  identity: GitIdentity,
): Promise<string> {
  const place = await ownCheckout(deps, sessionId);
  const { mirror, repositoryId, gitDir } = place;
  const context = { sessionId };
  return deps.mutex.run(repositoryId, () =>
    explain(context, `could not read the commits of session ${sessionId}`, async () => {
      // A `.git` the agent made a link or a file is not followed outside the sandbox.
      const found = await lstat(gitDir).catch(() => null);
      if (!found?.isDirectory()) {
        throw new WorkspaceError(
          `the checkout of session ${sessionId} has no .git folder`,
          context,
        );
      }
      const uploadPack = inCheckoutSandbox(deps, place, ['git', 'upload-pack'], identity);
      await deps.git(
        mirror,
        [
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          `--upload-pack=${uploadPack.map(shellQuote).join(' ')}`,
          path.join(place.checkout, '.git'),
          `+HEAD:${collectedRef(sessionId)}`,
        ],
        { config: ['transfer.fsckObjects=true'] },
      );
      const sha = await resolveRef(deps.git, mirror, collectedRef(sessionId));
      if (!sha) throw new WorkspaceError(`session ${sessionId} has no commit checked out`, context);
      return sha;
    }),
  );
}

const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
