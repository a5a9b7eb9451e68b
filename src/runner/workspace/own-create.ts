import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertBranchName } from '../names.js';
import { exists } from './exists.js';
import { explain } from './explain.js';
import { repoLabel } from './mirrors.js';
import { collectedRef, type OwnCheckoutDeps, writeRepositoryOf } from './own-checkout-deps.js';
import { checkOutOnLayers, startLayers } from './own-layers.js';
import { setLease } from './push-lease.js';
import { resolveRef } from './resolve-ref.js';
import { WorkspaceError } from './workspace-error.js';
import type { CreatedWorkspace, CreateInput, GitIdentity } from './workspace-types.js';

/**
 * Workspaces.create for own checkouts: under the repository's lock, fetches the mirror; a
 * checkout the runner finished making earlier is returned as it is (a retried spawn); anything
 * else at its path is cleared and the checkout made: a new repository borrowing the mirror's
 * objects, its `origin/*` copied from the mirror, the branch checked out from its pushed commit
 * (a respawn) or the base. Made by the runner before any agent ran in it. With overlays, the
 * repository and the session's changes live in its upper layer (own-layers.ts).
 */
export async function createOwnCheckout(
  deps: OwnCheckoutDeps,
  input: CreateInput,
  identity: GitIdentity,
): Promise<CreatedWorkspace> {
  const { sessionId, repo, branch, baseBranch } = input;
  const checkout = deps.pathFor(sessionId);
  assertBranchName(branch);
  assertBranchName(baseBranch);
  const context = { repo: repoLabel(repo), sessionId, branch };
  const { git } = deps;
  return deps.mutex.run(repo.id, () =>
    explain(context, `could not prepare a checkout for ${repoLabel(repo)}`, async () => {
      const mirror = await deps.mirrors.update(repo, input.auth);
      const baseSha = await resolveRef(git, mirror, `refs/remotes/origin/${baseBranch}`);
      if (!baseSha) {
        throw new WorkspaceError(
          `base branch '${baseBranch}' does not exist in ${repoLabel(repo)}`,
          context,
        );
      }
      const made = await resolveRef(git, mirror, collectedRef(sessionId));
      const upper = (await deps.overlays.layersFor(sessionId, repo.id))?.upper;
      if (made && (await exists(path.join(upper ?? checkout, '.git')))) {
        return { path: checkout, baseSha, headSha: made };
      }
      const pushedSha = await resolveRef(git, mirror, `refs/remotes/origin/${branch}`);
      const headSha = pushedSha ?? baseSha;
      await rm(checkout, { recursive: true, force: true });
      await mkdir(checkout, { recursive: true });
      // An overlay checkout's repository is made in its upper layer, before any sandbox mounts it.
      const onLayers = deps.newOnLayers
        ? await startLayers(deps.overlays, mirror, repo.id, sessionId, headSha)
        : undefined;
      const top = onLayers?.layers.upper ?? checkout;
      await git(top, ['init', '--quiet', '--template=', top]);
      await writeFile(
        path.join(top, '.git', 'objects', 'info', 'alternates'),
        `${path.join(mirror, 'objects')}\n`,
      );
      for (const [key, value] of [
        ['user.name', identity.name],
        ['user.email', identity.email],
        ['gc.auto', '0'],
        ['maintenance.auto', 'false'],
        ['core.logAllRefUpdates', 'true'],
      ] as const) {
        await git(top, ['config', key, value]);
      }
      await git(top, [
        'fetch',
        '--quiet',
        '--no-tags',
        mirror,
        '+refs/remotes/origin/*:refs/remotes/origin/*',
      ]);
      if (onLayers) {
        const { layers, base } = onLayers;
        const start = { branch, headSha, base, repoId: repo.id };
        await checkOutOnLayers(deps, { checkout, mirror, layers }, start, identity);
      } else {
        await git(checkout, ['checkout', '--quiet', '--no-track', '-b', branch, headSha]);
      }
      await mkdir(deps.recordsDir, { recursive: true });
      await writeRepositoryOf(deps, sessionId, repo.id);
      await setLease(git, mirror, branch, pushedSha);
      await git(mirror, ['update-ref', collectedRef(sessionId), headSha]);
      deps.log.info(
        { ...context, path: checkout, baseSha, headSha, respawn: pushedSha !== null },
        'created the checkout',
      );
      return { path: checkout, baseSha, headSha };
    }),
  );
}
