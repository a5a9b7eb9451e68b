/**
 * Bare mirrors, one per repository under `<dir>/<id>.git`: created on first use, then only
 * fetched. The remote's branches land in `origin/*`, so `refs/heads` holds the sessions' branches
 * only. Callers hold the repository's lock.
 */

import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { mirrorName } from '../names.js';
import { exists } from './exists.js';
import type { GitResult } from './git-command.js';
import { WorkspaceError } from './workspace-error.js';
import type { Auth, Git, GitIdentity, WorkspaceRepo } from './workspace-types.js';

export type Mirrors = ReturnType<typeof createMirrors>;

export interface WorktreeEntry {
  path: string;
  /** The branch checked out, without `refs/heads/`; null when detached. */
  branch: string | null;
}

const REMOTE_BRANCHES = '+refs/heads/*:refs/remotes/origin/*';

// Settings that would send the token elsewhere, or hand it to a program, if an agent wrote them
// into the config its worktree shares with the mirror.
const REDIRECTING_SETTINGS = '^(url|http|include|includeif|credential)\\.';

export function createMirrors({
  dir,
  git,
  identity,
  log,
}: {
  dir: string;
  git: Git;
  identity: GitIdentity;
  log: Logger;
}) {
  const pathOf = (repositoryId: number) => path.join(dir, mirrorName(repositoryId));

  /**
   * Runs a command that talks to the remote. With a token and an http(s) URL, the token goes on
   * this command line only, as an extra header; never into a config file or the URL.
   */
  async function remote(
    cwd: string,
    repo: WorkspaceRepo,
    auth: Auth,
    args: string[],
    okExitCodes: number[] = [],
  ): Promise<GitResult> {
    if (!auth?.token || !/^https?:\/\//i.test(repo.cloneUrl)) {
      return git(cwd, args, { okExitCodes });
    }
    const { stdout } = await git(
      cwd,
      ['config', '--show-scope', '--name-only', '--get-regexp', REDIRECTING_SETTINGS],
      { okExitCodes: [1] },
    );
    const planted = stdout
      .split('\n')
      .filter((line) => /^(local|worktree)\t/.test(line))
      .map((line) => line.slice(line.indexOf('\t') + 1));
    if (planted.length > 0) {
      throw new WorkspaceError(
        `refusing to send credentials for ${repoLabel(repo)}: the repository's git config sets ${planted.join(', ')}`,
        { repo: repoLabel(repo) },
      );
    }
    const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
    return git(cwd, args, {
      okExitCodes,
      secrets: [auth.token, basic],
      // Empty values reset what other config layers set: this header only, and no helper.
      config: [
        'credential.helper=',
        'http.extraHeader=',
        `http.extraHeader=Authorization: Basic ${basic}`,
      ],
    });
  }

  async function fetchInto(mirror: string, repo: WorkspaceRepo, auth: Auth): Promise<void> {
    // The URL is given each time, so a remote URL edited in the config cannot redirect the fetch.
    const args = ['fetch', '--prune', '--no-tags', '--quiet', repo.cloneUrl, REMOTE_BRANCHES];
    await remote(mirror, repo, auth, args);
  }

  /** Creates the repository's mirror on first use, fetches it otherwise; returns its path. */
  async function update(repo: WorkspaceRepo, auth: Auth): Promise<string> {
    const mirror = pathOf(repo.id);
    if (await exists(mirror)) {
      await fetchInto(mirror, repo, auth);
      return mirror;
    }
    // Built aside and renamed into place, so a failed first fetch leaves no half mirror behind.
    const building = `${mirror}.tmp`;
    await rm(building, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      // `init` and `fetch` rather than `clone --bare`, which copies every remote branch into
      // refs/heads, where they would go stale and collide with the sessions' branches.
      await git(dir, ['init', '--bare', '--quiet', '--template=', building]);
      const settings: [string, string][] = [
        ['remote.origin.url', repo.cloneUrl],
        ['remote.origin.fetch', REMOTE_BRANCHES],
        // Nothing runs in the background behind a command's back.
        ['gc.auto', '0'],
        ['gc.autoDetach', 'false'],
        ['maintenance.auto', 'false'],
        // Reflogs for the sessions' branches, to recover what an agent's rebase dropped.
        ['core.logAllRefUpdates', 'true'],
        ['user.name', identity.name],
        ['user.email', identity.email],
      ];
      for (const [key, value] of settings) await git(building, ['config', key, value]);
      await fetchInto(building, repo, auth);
      await rename(building, mirror);
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw error;
    }
    log.info({ repo: repoLabel(repo), mirror }, 'created the repository mirror');
    return mirror;
  }

  async function worktrees(mirror: string): Promise<WorktreeEntry[]> {
    const { stdout } = await git(mirror, ['worktree', 'list', '--porcelain']);
    return stdout
      .split('\n\n')
      .filter((block) => block.startsWith('worktree '))
      .map((block) => {
        const lines = block.split('\n');
        const branch = lines.find((line) => line.startsWith('branch refs/heads/'));
        return {
          path: lines[0]!.slice('worktree '.length),
          branch: branch ? branch.slice('branch refs/heads/'.length) : null,
        };
      });
  }

  /** The repository id of a worktree's mirror, from the gitdir in its `.git` file. */
  function idOf(gitDir: string): number | null {
    // `<dir>/<id>.git/worktrees/<name>`, with `<dir>` perhaps spelled through a symlink.
    const match = /\/mirrors\/(\d+)\.git\/worktrees\/[^/]+\/?$/.exec(gitDir);
    return match ? Number(match[1]) : null;
  }

  return { pathOf, update, remote, worktrees, idOf };
}

/** `owner/name` for messages: the full name given, or the end of the clone URL. */
export function repoLabel(repo: WorkspaceRepo): string {
  return (
    repo.fullName ??
    /([^/:]+\/[^/:]+?)(?:\.git)?\/?$/.exec(repo.cloneUrl)?.[1] ??
    `repository ${repo.id}`
  );
}
