import { copyFile, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckoutLayers } from '../sandbox/sandbox.js';
import { exists } from './exists.js';
import { type Overlays, removeLayers } from './overlays.js';
import type { OwnCheckoutDeps } from './own-checkout-deps.js';
import { type CheckoutPlace, runInCheckout } from './sandboxed-git.js';
import type { GitIdentity } from './workspace-types.js';

/**
 * Own checkouts on overlays (the default with a sandbox): the session's folder is only a mount
 * point; every sandboxed command mounts the shared checkout of a commit below the session's upper
 * layer, which holds its repository (`.git`) and whatever it changed (overlay-mount.ts).
 */

/** The session's fresh layers on the shared checkout nearest `headSha`. */
export async function startLayers(
  overlays: Overlays,
  mirror: string,
  repoId: number,
  sessionId: string,
  headSha: string,
): Promise<{ layers: CheckoutLayers; base: string }> {
  const base = await overlays.chooseBase(mirror, repoId, headSha);
  const dir = overlays.layersOf(sessionId);
  await removeLayers(dir);
  await mkdir(path.join(dir, 'upper'), { recursive: true });
  await mkdir(path.join(dir, 'work'), { recursive: true });
  await writeFile(path.join(dir, 'base'), `${base}\n`);
  return {
    base,
    layers: {
      lower: overlays.baseOf(repoId, base),
      upper: path.join(dir, 'upper'),
      work: path.join(dir, 'work'),
    },
  };
}

/** Where a shared checkout's index, as the sandbox sees its files, is kept. */
export const sandboxIndexOf = (overlays: Overlays, repoId: number, sha: string) =>
  `${overlays.baseOf(repoId, sha)}.sandbox-index`;

/**
 * Puts the branch at `headSha` in a checkout on layers made by startLayers: HEAD and the branch
 * written, the index the shared checkout's (its stat data refreshed once per commit as the
 * sandbox sees the files, so `git status` there needs no rehash), and when the shared checkout is
 * of another commit, only the difference written, in the upper layer. Run before any agent.
 */
export async function checkOutOnLayers(
  deps: OwnCheckoutDeps,
  place: CheckoutPlace & { layers: CheckoutLayers },
  start: { branch: string; headSha: string; base: string; repoId: number },
  identity: GitIdentity,
): Promise<void> {
  const { upper } = place.layers;
  const { branch, headSha, base, repoId } = start;
  await deps.git(upper, ['update-ref', `refs/heads/${branch}`, headSha]);
  await deps.git(upper, ['symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
  const index = path.join(upper, '.git', 'index');
  const seen = sandboxIndexOf(deps.overlays, repoId, base);
  const inside = (script: string, ...args: string[]) =>
    runInCheckout(deps, { ...place, script, args, identity });
  if (await exists(seen)) {
    await copyFile(seen, index);
  } else {
    await copyFile(`${deps.overlays.baseOf(repoId, base)}.index`, index);
    await inside('git update-index -q --refresh >/dev/null');
    const temporary = `${seen}.${process.pid}.new`;
    await copyFile(index, temporary);
    await rename(temporary, seen);
  }
  if (base !== headSha) await inside('git read-tree -m -u "$1" "$2"', base, headSha);
}
