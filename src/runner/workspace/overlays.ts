/**
 * Overlay checkouts (WORKSPACE_CHECKOUT=overlay): a session's worktree folder is an overlayfs
 * mount whose lower layer is a read-only checkout of a commit, shared by every session of the
 * repository on this runner, and whose upper layer holds only what the session changed. git sees
 * an ordinary worktree: its `.git` file lives in the upper layer, its index is a copy of the
 * shared checkout's (so the files' stat data match and `git status` needs no rehash).
 *
 * Layout under the workspace root:
 *   bases/<repo id>/<sha>/        the shared checkout of one commit (never written after creation)
 *   bases/<repo id>/<sha>.index   its index
 *   overlays/<session>/upper/     the session's changes (and its `.git` file)
 *   overlays/<session>/work/      overlayfs's scratch folder
 *   overlays/<session>/base       the sha of the shared checkout the session stands on
 *
 * Callers hold the repository's lock for add and discard. Mounting needs Linux and permission to
 * mount (root, or CAP_SYS_ADMIN); `check` says so plainly at startup.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  copyFile,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { CheckoutLayers } from '../sandbox/sandbox.js';
import { exists } from './exists.js';
import { WorkspaceError } from './workspace-error.js';
import type { Git } from './workspace-types.js';

const exec = promisify(execFile);

/** A session starting this many changed files away from the newest shared checkout gets its own. */
const MAX_DIFF_FROM_BASE = 2_000;

export type Overlays = ReturnType<typeof createOverlays>;

export function createOverlays({ root, git, log }: { root: string; git: Git; log: Logger }) {
  const basesDir = path.join(root, 'bases');
  const overlaysDir = path.join(root, 'overlays');
  const baseOf = (repoId: number, sha: string) => path.join(basesDir, String(repoId), sha);
  const layersOf = (sessionId: string) => path.join(overlaysDir, sessionId);

  /** Mounts the session's layers on its worktree folder (a no-op when they are mounted). */
  async function mount(sessionId: string, worktree: string, repoId: number): Promise<void> {
    if (await isMountPoint(worktree)) return;
    const layers = layersOf(sessionId);
    const sha = (await readFile(path.join(layers, 'base'), 'utf8').catch(() => '')).trim();
    if (!sha) {
      throw new WorkspaceError(`session ${sessionId} has no overlay layers to mount`, {
        sessionId,
      });
    }
    await mkdir(worktree, { recursive: true });
    await mountOverlay({
      lower: baseOf(repoId, sha),
      upper: path.join(layers, 'upper'),
      work: path.join(layers, 'work'),
      target: worktree,
    });
  }

  /** The shared checkout of `sha`, made once: checked out beside it, then renamed into place. */
  async function ensureBase(mirror: string, repoId: number, sha: string): Promise<void> {
    const dir = baseOf(repoId, sha);
    if (await exists(`${dir}.index`)) return;
    const temporary = `${path.dirname(dir)}/.new-${randomBytes(4).toString('hex')}`;
    await mkdir(temporary, { recursive: true });
    try {
      await git(
        mirror,
        [`--git-dir=${mirror}`, `--work-tree=${temporary}`, 'read-tree', '--reset', '-u', sha],
        { env: { GIT_INDEX_FILE: `${temporary}.index` } },
      );
      await rm(dir, { recursive: true, force: true });
      await rename(temporary, dir);
      // The index last: its presence says the checkout beside it is complete.
      await rename(`${temporary}.index`, `${dir}.index`);
      log.info({ repoId, sha }, 'made a shared checkout for overlay worktrees');
    } finally {
      await rm(temporary, { recursive: true, force: true });
      await rm(`${temporary}.index`, { force: true });
    }
  }

  /** The shared checkout a session starting at `sha` stands on: its own, or a near one. */
  async function chooseBase(mirror: string, repoId: number, sha: string): Promise<string> {
    if (await exists(`${baseOf(repoId, sha)}.index`)) return sha;
    const newest = (await basesOf(repoId))[0];
    if (newest) {
      const { stdout } = await git(mirror, ['diff', '--name-only', '--no-renames', newest, sha]);
      const changed = stdout.split('\n').filter(Boolean).length;
      if (changed <= MAX_DIFF_FROM_BASE) return newest;
    }
    await ensureBase(mirror, repoId, sha);
    return sha;
  }

  /** Complete shared checkouts of a repository, newest first. */
  async function basesOf(repoId: number): Promise<string[]> {
    const dir = path.join(basesDir, String(repoId));
    const names = await readdir(dir).catch(() => [] as string[]);
    const found: { sha: string; at: number }[] = [];
    for (const name of names) {
      const sha = /^([0-9a-f]{40,64})\.index$/.exec(name)?.[1];
      if (!sha) continue;
      const info = await stat(path.join(dir, name)).catch(() => null);
      if (info) found.push({ sha, at: info.mtimeMs });
    }
    return found.sort((a, b) => b.at - a.at).map((b) => b.sha);
  }

  return {
    basesDir,
    overlaysDir,
    layersOf,
    baseOf,
    chooseBase,

    /** The session's layers, as a sandbox mounts them; undefined when it has none. */
    async layersFor(sessionId: string, repoId: number): Promise<CheckoutLayers | undefined> {
      const layers = layersOf(sessionId);
      const sha = (await readFile(path.join(layers, 'base'), 'utf8').catch(() => '')).trim();
      if (!sha) return undefined;
      return {
        lower: baseOf(repoId, sha),
        upper: path.join(layers, 'upper'),
        work: path.join(layers, 'work'),
      };
    },

    /**
     * Turns a worktree made with `--no-checkout` into a mounted overlay at `startSha`: its `.git`
     * moves into the upper layer, its index comes from the shared checkout, and when that checkout
     * is of another commit only the difference is written (into the upper layer).
     */
    async add(input: {
      mirror: string;
      repoId: number;
      sessionId: string;
      worktree: string;
      startSha: string;
    }): Promise<void> {
      const { mirror, repoId, sessionId, worktree, startSha } = input;
      const base = await chooseBase(mirror, repoId, startSha);
      const layers = layersOf(sessionId);
      await rm(layers, { recursive: true, force: true });
      await mkdir(path.join(layers, 'upper'), { recursive: true });
      await mkdir(path.join(layers, 'work'), { recursive: true });
      const gitFile = path.join(worktree, '.git');
      const gitDir = gitDirOf(worktree, await readFile(gitFile, 'utf8'));
      await rename(gitFile, path.join(layers, 'upper', '.git'));
      await copyFile(`${baseOf(repoId, base)}.index`, path.join(gitDir, 'index'));
      await writeFile(path.join(layers, 'base'), `${base}\n`);
      await mount(sessionId, worktree, repoId);
      if (base !== startSha) {
        await git(worktree, ['read-tree', '-m', '-u', base, startSha]);
      }
    },

    mount,

    /** Unmounts the session's worktree folder, if mounted. */
    async unmount(worktree: string): Promise<void> {
      if (!(await isMountPoint(worktree))) return;
      // Lazy: a process still in the folder (an agent being killed) does not keep it mounted.
      await exec('umount', ['--lazy', worktree]).catch((error: unknown) => {
        throw new WorkspaceError(`could not unmount ${worktree}: ${mountError(error)}`, {});
      });
    },

    /**
     * Deletes the session's layers (unmounted first), then every shared checkout of the repository
     * no session stands on, except the newest, which the next session will likely use.
     */
    async discard(sessionId: string, repoId: number | null): Promise<void> {
      await removeLayers(layersOf(sessionId));
      if (repoId === null) return;
      const inUse = new Set<string>();
      for (const name of await readdir(overlaysDir).catch(() => [] as string[])) {
        const sha = await readFile(path.join(overlaysDir, name, 'base'), 'utf8').catch(() => '');
        if (sha.trim()) inUse.add(sha.trim());
      }
      const [, ...older] = await basesOf(repoId);
      for (const sha of older) {
        if (inUse.has(sha)) continue;
        await rm(`${baseOf(repoId, sha)}.index`, { force: true });
        await rm(`${baseOf(repoId, sha)}.sandbox-index`, { force: true });
        await rm(baseOf(repoId, sha), { recursive: true, force: true });
        log.info({ repoId, sha }, 'removed a shared checkout no session uses');
      }
    },

    /** Whether the session's folder is mounted from its layers. */
    isMounted: (worktree: string) => isMountPoint(worktree),

    /**
     * Proves at startup that this host can make overlay worktrees here: mounts a tiny overlay
     * under the root and unmounts it. Throws a message an operator can act on.
     */
    async check(): Promise<void> {
      if (/[,:]/.test(root)) {
        throw new Error(
          `overlay cannot use a WORKSPACE_ROOT with ',' or ':' in its path (${root}): overlayfs options cannot carry them`,
        );
      }
      const probe = path.join(overlaysDir, `.probe-${randomBytes(4).toString('hex')}`);
      const dirs = ['lower', 'upper', 'work', 'merged'].map((d) => path.join(probe, d));
      try {
        for (const dir of dirs) await mkdir(dir, { recursive: true });
        await writeFile(path.join(dirs[0]!, 'probe'), 'lower\n');
        await mountOverlay({ lower: dirs[0]!, upper: dirs[1]!, work: dirs[2]!, target: dirs[3]! });
        const seen = await readFile(path.join(dirs[3]!, 'probe'), 'utf8');
        await exec('umount', [dirs[3]!]);
        if (seen !== 'lower\n') throw new Error('the overlay did not show its lower layer');
      } catch (error) {
        throw new Error(
          `overlay needs Linux overlayfs and permission to mount (root, or CAP_SYS_ADMIN); a test mount under ${overlaysDir} failed: ${mountError(error)}`,
        );
      } finally {
        await rm(probe, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
}

/**
 * Deletes a folder of overlay layers. overlayfs leaves `work/work` (and a volatile mount's mark
 * in it) with mode 000, which only root could read to empty it: it is opened up first.
 */
export async function removeLayers(dir: string): Promise<void> {
  await openUp(path.join(dir, 'work'));
  await rm(dir, { recursive: true, force: true });
}

/** Gives the owner back every folder overlayfs made unreadable (mode 000) under `dir`. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {});
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await openUp(path.join(dir, entry.name));
  }
}

async function mountOverlay(layers: {
  lower: string;
  upper: string;
  work: string;
  target: string;
}): Promise<void> {
  const options = `lowerdir=${layers.lower},upperdir=${layers.upper},workdir=${layers.work}`;
  try {
    await exec('mount', ['-t', 'overlay', 'overlay', '-o', options, layers.target]);
  } catch (error) {
    throw new WorkspaceError(
      `could not mount the overlay on ${layers.target}: ${mountError(error)}`,
      {},
    );
  }
}

/** Whether a folder is a mount point, from this process's mount table. */
async function isMountPoint(dir: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  // The table holds real paths; the root may be reached through a symlink.
  const target = await realpath(dir).catch(() => path.resolve(dir));
  return table.split('\n').some((line) => unescapeMount(line.split(' ')[4] ?? '') === target);
}

/** mountinfo writes space, tab, newline and backslash as octal escapes. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

function gitDirOf(worktree: string, gitFile: string): string {
  const dir = /^gitdir: (.+)$/m.exec(gitFile)?.[1];
  if (!dir) throw new WorkspaceError(`${worktree}/.git does not name its git folder`, {});
  return path.resolve(worktree, dir.trim());
}

function mountError(error: unknown): string {
  const failed = error as { stderr?: string; code?: string; message?: string };
  if (failed.code === 'ENOENT') return 'the mount command is not installed';
  return (failed.stderr || failed.message || String(error)).trim();
}
