import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { removeLayers } from './overlays.js';
import type { OwnCheckoutDeps } from './own-checkout-deps.js';
import { runSandboxed } from './sandboxed-git.js';

/**
 * Proves at startup that sandboxes here can mount overlay checkouts: a sandboxed command on a
 * tiny overlay under the workspace root reads its lower layer, changes a file and deletes one,
 * and the change lands in the upper layer alone. Throws a message an operator can act on.
 */
export async function checkLayers(deps: OwnCheckoutDeps): Promise<void> {
  const probe = path.join(deps.overlays.overlaysDir, `.probe-${randomBytes(4).toString('hex')}`);
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) =>
    path.join(probe, d),
  ) as [string, string, string, string];
  try {
    for (const dir of [lower, upper, work, merged]) await mkdir(dir, { recursive: true });
    await writeFile(path.join(lower, 'probe'), 'lower\n');
    await writeFile(path.join(lower, 'gone'), 'lower\n');
    const argv = deps.sandbox.command(
      { workdir: merged, layers: { lower, upper, work }, home: merged, readOnly: [] },
      ['/bin/sh', '-c', 'cat probe && echo upper >>probe && rm gone'],
      merged,
    );
    const seen = await runSandboxed(argv, merged, 30_000);
    const below = await readFile(path.join(lower, 'probe'), 'utf8');
    const above = await readFile(path.join(upper, 'probe'), 'utf8').catch(() => '');
    if (seen !== 'lower\n' || below !== 'lower\n' || above !== 'lower\nupper\n') {
      throw new Error('the overlay did not keep its layers apart');
    }
  } catch (error) {
    throw new Error(
      `WORKSPACE_CHECKOUT=overlay needs Linux 5.11 or later, overlayfs and unshare (util-linux), with WORKSPACE_ROOT on a file system overlayfs can write to (not overlayfs itself); a sandboxed test mount under ${deps.overlays.overlaysDir} failed: ${(error as Error).message}. Set WORKSPACE_CHECKOUT=worktree to check out every file per session instead`,
    );
  } finally {
    await removeLayers(probe).catch(() => {});
  }
}
