/**
 * Workspaces: one bare mirror per repository, fetched before each new worktree, and one git
 * worktree per session on its own branch under `<root>/sessions/<sessionId>`. Git operations on
 * a mirror (fetch, worktree add and remove, prune) run one at a time; different repositories run
 * in parallel. The installation token reaches git only on the command line of the commands that
 * talk to the remote.
 */

import { mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { GitCommandError, type GitOptions, runGit } from './git-command.js';
import { createKeyedMutex } from './keyed-mutex.js';
import { createMirrors, exists, repoLabel } from './mirrors.js';
import { assertBranchName, assertSessionId } from './names.js';
import { createOverlays } from './overlays.js';
import {
  PushRejectedError,
  WorkspaceError,
  type WorkspaceErrorContext,
} from './workspace-error.js';

export {
  PushRejectedError,
  WorkspaceError,
  type WorkspaceErrorContext,
} from './workspace-error.js';

export interface WorkspaceRepo {
  /** GitHub's repository id; names the mirror folder, so a rename keeps the mirror. */
  id: number;
  /** `owner/name`, for messages and logs; taken from cloneUrl when absent. */
  fullName?: string | undefined;
  /** Fetched from and pushed to on every call (https on GitHub; file:// or a path in tests). */
  cloneUrl: string;
}

/** An installation token for one push or fetch; sent only to http(s) remotes. */
export interface GitAuth {
  token: string;
}

export interface GitIdentity {
  name: string;
  email: string;
}

export interface CreatedWorkspace {
  path: string;
  /** The tip of `origin/<baseBranch>` when the worktree was made. */
  baseSha: string;
  /** Where the branch starts: the base, or the branch's pushed commit on a respawn. */
  headSha: string;
}

export interface PushResult {
  headSha: string;
  /** False when the remote branch already was at headSha. */
  pushed: boolean;
}

export const DEFAULT_IDENTITY: GitIdentity = {
  name: 'Agent Orchestrator',
  email: 'agent-orchestrator@users.noreply.github.com',
};

export interface WorkspacesOptions {
  /** Holds `mirrors/` and `sessions/`. */
  root: string;
  log: Logger;
  /** The author of commits made in the worktrees (default DEFAULT_IDENTITY). */
  identity?: GitIdentity;
  /** Any single git command is killed after this long (default 10 minutes). */
  timeoutMs?: number;
  /**
   * How a session's files are laid out: `worktree` (default) checks every file out per session;
   * `overlay` mounts one shared checkout per commit under the session's own changes (see
   * overlays.ts; Linux, permission to mount).
   */
  checkout?: WorkspaceCheckout;
}

export type WorkspaceCheckout = 'worktree' | 'overlay';

export interface CreateInput {
  /** Validated with assertSessionId; names the folder `sessions/<sessionId>`. */
  sessionId: string;
  repo: WorkspaceRepo;
  /** The session's branch, created from `origin/<baseBranch>`, or from `origin/<branch>` when pushed. */
  branch: string;
  baseBranch: string;
  auth?: GitAuth | null | undefined;
}

export interface Workspaces {
  /** Fetches (or first creates) the mirror and adds the session's worktree; a retry returns the same one. */
  create(input: CreateInput): Promise<CreatedWorkspace>;
  /**
   * Removes the worktree, its folder and the local branch; nothing there is not an error. Without
   * repo or branch (a folder left by a session that is gone), they are read from the worktree.
   */
  remove(input: {
    sessionId: string;
    repo?: WorkspaceRepo | null | undefined;
    branch?: string | null | undefined;
  }): Promise<void>;
  /** Stages everything and commits it; the new sha, or null when nothing changed. */
  commitAll(input: { sessionId: string; message: string }): Promise<string | null>;
  /** Pushes the worktree's HEAD to the branch, rewriting it only from the commit last pushed. */
  push(input: {
    sessionId: string;
    repo: WorkspaceRepo;
    branch: string;
    auth?: GitAuth | null | undefined;
  }): Promise<PushResult>;
  /** Updates `origin/*` in the repository's mirror, e.g. before asking an agent to rebase. */
  fetch(input: { repo: WorkspaceRepo; auth?: GitAuth | null | undefined }): Promise<void>;
  headSha(sessionId: string): Promise<string>;
  pathFor(sessionId: string): string;
  /** Session ids with a worktree folder, sorted (to find the folders of sessions that are gone). */
  listSessions(): Promise<string[]>;
  /** The session's worktree, ready for an agent (an overlay unmounted by a reboot is mounted again). */
  ready(sessionId: string): Promise<string>;
  /** Proves at startup that the host can make this kind of workspace; throws what to fix. */
  check(): Promise<void>;
}

// What the runner last pushed (or found pushed) per branch: the lease for the next push.
const leaseRef = (branch: string) => `refs/orchestrator/pushed/${branch}`;
// git's reasons for refusing a push, in plain words.
const REJECTIONS: Record<string, string> = {
  'stale info': 'the branch changed on the remote since this runner last pushed it',
  'fetch first': 'the branch on the remote has commits the worktree does not have',
  'non-fast-forward': 'the branch on the remote has commits the worktree does not have',
};

export function createWorkspaces({
  root,
  log,
  identity = DEFAULT_IDENTITY,
  timeoutMs = 600_000,
  checkout = 'worktree',
}: WorkspacesOptions): Workspaces {
  const mirrorsDir = path.resolve(root, 'mirrors');
  const sessions = path.resolve(root, 'sessions');
  const mutex = createKeyedMutex<number>();

  const pathFor = (sessionId: string) => path.join(sessions, assertSessionId(sessionId));

  const git = (cwd: string, args: string[], options: Omit<GitOptions, 'cwd'> = {}) =>
    runGit(args, { cwd, ceilings: [mirrorsDir, sessions], timeoutMs, ...options });
  const mirrors = createMirrors({ dir: mirrorsDir, git, identity, log });
  const overlays =
    checkout === 'overlay' ? createOverlays({ root: path.resolve(root), git, log }) : null;
  /** Written once an overlay worktree is complete; a spawn that finds none starts it over. */
  const overlayDone = (sessionId: string) => path.join(overlays!.layersOf(sessionId), 'done');

  /** The sha a ref points to, or null when it does not exist. */
  async function resolve(cwd: string, ref: string): Promise<string | null> {
    const { stdout, exitCode } = await git(
      cwd,
      ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
      { okExitCodes: [1] },
    );
    return exitCode === 0 ? stdout.trim() : null;
  }

  async function create(input: CreateInput): Promise<CreatedWorkspace> {
    const { sessionId, repo, branch, baseBranch } = input;
    const worktree = pathFor(sessionId);
    assertBranchName(branch);
    assertBranchName(baseBranch);
    const context = { repo: repoLabel(repo), sessionId, branch };
    const scoped = log.child(context);
    return mutex.run(repo.id, () =>
      explain(context, `could not prepare a worktree for ${repoLabel(repo)}`, async () => {
        const mirror = await mirrors.update(repo, input.auth);
        await git(mirror, ['worktree', 'prune']);
        const baseSha = await resolve(mirror, `refs/remotes/origin/${baseBranch}`);
        if (!baseSha) {
          throw new WorkspaceError(
            `base branch '${baseBranch}' does not exist in ${repoLabel(repo)}`,
            context,
          );
        }
        await mkdir(sessions, { recursive: true });
        let present = await mirrors.worktrees(mirror);
        const listed = await asListed(worktree);
        const mine = present.find((entry) => entry.path === listed);
        if (mine && overlays && !(await exists(overlayDone(sessionId)))) {
          // A spawn that stopped half way through making the overlay: made again from the start.
          scoped.warn({ path: worktree }, 'removing a half-made overlay worktree');
          await dropWorktree(mirror, worktree, sessionId, repo.id);
          present = await mirrors.worktrees(mirror);
        } else if (mine) {
          // A retried spawn: the worktree is already there.
          if (mine.branch !== branch) {
            throw new WorkspaceError(
              `the worktree of session ${sessionId} is on '${mine.branch ?? 'a detached HEAD'}', not '${branch}'`,
              context,
            );
          }
          await overlays?.mount(sessionId, worktree, repo.id);
          const headSha = await resolve(worktree, 'HEAD');
          return { path: worktree, baseSha, headSha: headSha ?? baseSha };
        }
        const holder = present.find((entry) => entry.branch === branch);
        if (holder) {
          throw new WorkspaceError(
            `branch '${branch}' is already checked out in another worktree (${holder.path})`,
            context,
          );
        }
        if (await exists(worktree)) {
          scoped.warn({ path: worktree }, 'removing a leftover folder that is not a worktree');
          await overlays?.unmount(worktree);
          await rm(worktree, { recursive: true, force: true });
        }
        const leftover = await resolve(mirror, `refs/heads/${branch}`);
        if (leftover) {
          scoped.warn({ sha: leftover }, 'deleting a leftover local branch with no worktree');
          await git(mirror, ['branch', '-D', branch]);
        }
        const pushedSha = await resolve(mirror, `refs/remotes/origin/${branch}`);
        const headSha = pushedSha ?? baseSha;
        const start = `refs/remotes/origin/${pushedSha ? branch : baseBranch}`;
        await git(mirror, [
          'worktree',
          'add',
          '--quiet',
          '--no-track',
          // An overlay worktree's .git lives in its upper layer, out of sight while unmounted:
          // locked, so that `worktree prune` never takes it for gone.
          ...(overlays ? ['--no-checkout', '--lock'] : []),
          '-b',
          branch,
          worktree,
          start,
        ]);
        if (overlays) {
          await overlays.add({ mirror, repoId: repo.id, sessionId, worktree, startSha: headSha });
          await writeFile(overlayDone(sessionId), `${headSha}\n`);
        }
        await setLease(mirror, branch, pushedSha);
        scoped.info(
          { path: worktree, baseSha, headSha, respawn: pushedSha !== null },
          'created the worktree',
        );
        return { path: worktree, baseSha, headSha };
      }),
    );
  }

  async function setLease(cwd: string, branch: string, sha: string | null): Promise<void> {
    await git(
      cwd,
      sha ? ['update-ref', leaseRef(branch), sha] : ['update-ref', '-d', leaseRef(branch)],
    );
  }

  async function remove(input: Parameters<Workspaces['remove']>[0]): Promise<void> {
    const { sessionId, repo } = input;
    const worktree = pathFor(sessionId);
    if (input.branch) assertBranchName(input.branch);
    const id = repo?.id ?? (await mirrorIdOf(worktree));
    const context = {
      repo: repo ? repoLabel(repo) : undefined,
      sessionId,
      branch: input.branch ?? undefined,
    };
    const scoped = log.child(context);
    if (id === null) {
      await overlays?.unmount(worktree);
      await rm(worktree, { recursive: true, force: true });
      await overlays?.discard(sessionId, null);
      return;
    }
    const mirror = mirrors.pathOf(id);
    await mutex.run(id, () =>
      explain(context, `could not remove the worktree of session ${sessionId}`, async () => {
        if (await exists(mirror)) {
          const listed = await asListed(worktree);
          const branch =
            input.branch ??
            (await mirrors.worktrees(mirror)).find((entry) => entry.path === listed)?.branch;
          await dropWorktree(mirror, worktree, sessionId, id);
          if (branch && (await resolve(mirror, `refs/heads/${branch}`))) {
            const holder = (await mirrors.worktrees(mirror)).find(
              (entry) => entry.branch === branch,
            );
            if (holder)
              scoped.warn({ holder: holder.path }, 'kept the branch: another worktree has it');
            else await git(mirror, ['branch', '-D', branch]);
          }
          if (branch) await setLease(mirror, branch, null);
        }
        await overlays?.unmount(worktree);
        await rm(worktree, { recursive: true, force: true });
        await overlays?.discard(sessionId, id);
        scoped.info('removed the worktree');
      }),
    );
  }

  /** Deletes a worktree's folder and git's record of it (the caller holds the repository lock). */
  async function dropWorktree(mirror: string, worktree: string, sessionId: string, id: number) {
    if (overlays) {
      await overlays.unmount(worktree);
      await git(mirror, ['worktree', 'unlock', worktree], { okExitCodes: [128] });
    }
    // Fails when it is already gone or holds submodules; the folder is removed below anyway.
    await git(mirror, ['worktree', 'remove', '--force', '--force', worktree], {
      okExitCodes: [128],
    });
    await rm(worktree, { recursive: true, force: true });
    await git(mirror, ['worktree', 'prune']);
    await overlays?.discard(sessionId, id);
  }

  /** The repository id of the mirror a worktree folder belongs to, read from its `.git` file. */
  async function mirrorIdOf(worktree: string): Promise<number | null> {
    const sessionId = path.basename(worktree);
    const gitFile =
      (await readFile(path.join(worktree, '.git'), 'utf8').catch(() => '')) ||
      // An overlay worktree that is not mounted keeps its .git in its upper layer.
      (overlays
        ? await readFile(path.join(overlays.layersOf(sessionId), 'upper', '.git'), 'utf8').catch(
            () => '',
          )
        : '');
    const gitDir = /^gitdir: (.+)$/m.exec(gitFile)?.[1];
    return gitDir ? mirrors.idOf(path.resolve(worktree, gitDir)) : null;
  }

  /** A worktree's path as git lists it: with symlinks in the folders above it resolved. */
  async function asListed(worktree: string): Promise<string> {
    const parent = await realpath(path.dirname(worktree)).catch(() => path.dirname(worktree));
    return path.join(parent, path.basename(worktree));
  }

  /** The session's worktree folder (an overlay mounted again if need be), or a WorkspaceError. */
  async function existingWorktree(sessionId: string): Promise<string> {
    const worktree = pathFor(sessionId);
    if (!(await exists(worktree))) {
      throw new WorkspaceError(`session ${sessionId} has no worktree`, { sessionId });
    }
    if (overlays && !(await overlays.isMounted(worktree))) {
      const id = await mirrorIdOf(worktree);
      if (id === null || !(await exists(overlayDone(sessionId)))) {
        throw new WorkspaceError(`session ${sessionId} has no worktree`, { sessionId });
      }
      await mutex.run(id, () => overlays.mount(sessionId, worktree, id));
      log.info({ sessionId }, 'mounted the overlay worktree again');
    }
    return worktree;
  }

  async function headSha(sessionId: string): Promise<string> {
    const worktree = await existingWorktree(sessionId);
    return explain({ sessionId }, `could not read the head of session ${sessionId}`, async () => {
      const sha = await resolve(worktree, 'HEAD');
      if (!sha)
        throw new WorkspaceError(`session ${sessionId} has no commit checked out`, { sessionId });
      return sha;
    });
  }

  async function commitAll(input: { sessionId: string; message: string }): Promise<string | null> {
    const { sessionId, message } = input;
    const worktree = await existingWorktree(sessionId);
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
        const sha = await resolve(worktree, 'HEAD');
        log.info({ sessionId, sha }, 'committed the changes left in the worktree');
        return sha;
      },
    );
  }

  async function push(input: Parameters<Workspaces['push']>[0]): Promise<PushResult> {
    const { sessionId, repo, branch } = input;
    assertBranchName(branch);
    const worktree = await existingWorktree(sessionId);
    const context = { repo: repoLabel(repo), sessionId, branch };
    return explain(context, `could not push '${branch}' to ${repoLabel(repo)}`, async () => {
      const headSha = await resolve(worktree, 'HEAD');
      if (!headSha) throw new WorkspaceError(`session ${sessionId} has no commit to push`, context);
      const target = `refs/heads/${branch}`;
      // The agent may rebase, so the push may rewrite the branch, but only from the commit this
      // runner last saw there; a plain push when it knows none (nothing is overwritten then).
      const lease = await resolve(worktree, leaseRef(branch));
      const result = await mirrors.remote(
        worktree,
        repo,
        input.auth,
        [
          'push',
          '--porcelain',
          '--no-verify',
          ...(lease ? [`--force-with-lease=${target}:${lease}`] : []),
          repo.cloneUrl,
          `HEAD:${target}`,
        ],
        [1],
      );
      const status = result.stdout
        .split('\n')
        .map((line) => line.split('\t'))
        .find((fields) => fields[1] === `HEAD:${target}`);
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
      await setLease(worktree, branch, headSha);
      await git(worktree, ['update-ref', `refs/remotes/origin/${branch}`, headSha]);
      const pushed = status[0] !== '=';
      log.info({ ...context, headSha, pushed, forced: status[0] === '+' }, 'pushed the branch');
      return { headSha, pushed };
    });
  }

  return {
    create,
    remove,
    commitAll,
    push,
    headSha,
    pathFor,
    fetch(input: Parameters<Workspaces['fetch']>[0]): Promise<void> {
      const { repo } = input;
      return mutex.run(repo.id, () =>
        explain({ repo: repoLabel(repo) }, `could not fetch ${repoLabel(repo)}`, async () => {
          await mirrors.update(repo, input.auth);
        }),
      );
    },
    ready: existingWorktree,
    async check(): Promise<void> {
      await overlays?.check();
    },
    async listSessions(): Promise<string[]> {
      const entries = await readdir(sessions, { withFileTypes: true }).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      });
      return entries
        .filter((entry) => entry.isDirectory() && isSessionId(entry.name))
        .map((entry) => entry.name)
        .sort();
    },
  };
}

/** Runs a step, turning a failed git command into a WorkspaceError that says what failed. */
async function explain<T>(
  context: WorkspaceErrorContext,
  what: string,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof GitCommandError) {
      throw new WorkspaceError(`${what}: ${error.reason}`, context, { cause: error });
    }
    throw error;
  }
}

function isSessionId(name: string): boolean {
  try {
    assertSessionId(name);
    return true;
  } catch {
    return false;
  }
}
