/**
 * Bare mirrors, one per repository under `<dir>/<id>.git`: created on first use, then only
 * fetched. The remote's branches land in `origin/*`, so `refs/heads` holds the sessions' branches
 * only. Callers hold the repository's lock.
 */

import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { mirrorName } from '../names.js';
import { type GitHost, isOnHost, origin } from '../remote-url.js';
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
  gitHost,
  log,
}: {
  dir: string;
  git: Git;
  identity: GitIdentity;
  /** The configured GitHub: the one remote a token is ever sent to. */
  gitHost: GitHost;
  log: Logger;
}) {
  const pathOf = (repositoryId: number) => path.join(dir, mirrorName(repositoryId));

  /**
   * Runs a command that talks to the remote. With a token, only when the URL is on the configured
   * GitHub host, and the token goes in this command's environment only, as an extra header;
   * never on its command line, into a config file or into the URL.
   */
  async function remote(
    cwd: string,
    repo: WorkspaceRepo,
    auth: Auth,
    args: string[],
    okExitCodes: number[] = [],
  ): Promise<GitResult> {
    if (!auth?.token) return git(cwd, args, { okExitCodes });
    if (!isOnHost(repo.cloneUrl, gitHost)) {
      throw new WorkspaceError(
        `refusing to send credentials for ${repoLabel(repo)} to ${hostOf(repo.cloneUrl)}: tokens go only to the configured GitHub, ${origin(gitHost)} (GHE_HOST, GHE_PROTOCOL)`,
        { repo: repoLabel(repo) },
      );
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
      // Empty values reset what other config layers set: this header only, and no helper; and a
      // redirect is not followed, so the header goes to the configured host and nowhere else.
      config: [
        'credential.helper=',
        'http.extraHeader=',
        `http.extraHeader=Authorization: Basic ${basic}`,
        'http.followRedirects=false',
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

/** Where a URL points, for a message: its scheme and host, never a user, password or path. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.host ? `${parsed.protocol}//${parsed.host}` : `a ${parsed.protocol} URL`;
  } catch {
    return 'a local path';
  }
}

/** `owner/name` for messages: the full name given, or the end of the clone URL. */
export function repoLabel(repo: WorkspaceRepo): string {
  return (
    repo.fullName ??
    /([^/:]+\/[^/:]+?)(?:\.git)?\/?$/.exec(repo.cloneUrl)?.[1] ??
    `repository ${repo.id}`
  );
}
