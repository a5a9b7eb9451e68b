/** The types the workspace modules share, and the Workspaces interface the runner calls. */

import type { CheckoutLayers } from '../sandbox/sandbox.js';
import type { GitOptions, GitResult } from './git-command.js';

export interface WorkspaceRepo {
  /** GitHub's repository id; names the mirror folder, so a rename keeps the mirror. */
  id: number;
  /** `owner/name`, for messages and logs; taken from cloneUrl when absent. */
  fullName?: string | undefined;
  /**
   * Fetched from and pushed to on every call: for a session with an installation, built from the
   * configured host and GitHub's full name (runner/remote-url.ts); a local origin in some tests.
   */
  cloneUrl: string;
}

/**
 * An installation token for one push or fetch, minted for it; sent only to a remote on the
 * configured GitHub host (a token with any other URL is refused), in git's environment.
 */
export interface GitAuth {
  token: string;
}

/** A token, or none (a session without an installation: a local origin in tests). */
export type Auth = GitAuth | null | undefined;

export interface GitIdentity {
  name: string;
  email: string;
}

/** runGit in a folder under the workspace root, with the ceilings and timeout set for all. */
export type Git = (
  cwd: string,
  args: string[],
  options?: Omit<GitOptions, 'cwd'>,
) => Promise<GitResult>;

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

export interface CreateInput {
  /** Validated with assertSessionId; names the folder `sessions/<sessionId>`. */
  sessionId: string;
  repo: WorkspaceRepo;
  /** The session's branch, created from `origin/<baseBranch>`, or from `origin/<branch>` when pushed. */
  branch: string;
  baseBranch: string;
  auth?: Auth;
}

export interface RemoveInput {
  sessionId: string;
  repo?: WorkspaceRepo | null | undefined;
  branch?: string | null | undefined;
}

export interface CommitInput {
  sessionId: string;
  message: string;
}

export interface PushInput {
  sessionId: string;
  repo: WorkspaceRepo;
  branch: string;
  auth?: Auth;
}

export interface FetchInput {
  repo: WorkspaceRepo;
  auth?: Auth;
}

export interface Workspaces {
  /** What a sandbox of the repository's sessions reads besides their checkout (borrowed objects). */
  readOnlyFor(repositoryId: number): string[];
  /** The overlay a sandbox mounts on the session's folder; undefined when its files are its own. */
  layersFor(sessionId: string, repositoryId: number): Promise<CheckoutLayers | undefined>;
  /** Fetches (or first creates) the mirror and adds the session's worktree; a retry returns the same one. */
  create(input: CreateInput): Promise<CreatedWorkspace>;
  /**
   * Removes the worktree, its folder and the local branch; nothing there is not an error. Without
   * repo or branch (a folder left by a session that is gone), they are read from the worktree.
   */
  remove(input: RemoveInput): Promise<void>;
  /** Stages everything and commits it; the new sha, or null when nothing changed. */
  commitAll(input: CommitInput): Promise<string | null>;
  /** Pushes the worktree's HEAD to the branch, rewriting it only from the commit last pushed. */
  push(input: PushInput): Promise<PushResult>;
  /** Updates `origin/*` in the repository's mirror, e.g. before asking an agent to rebase. */
  fetch(input: FetchInput): Promise<void>;
  headSha(sessionId: string): Promise<string>;
  pathFor(sessionId: string): string;
  /** Session ids with a worktree folder, sorted (to find the folders of sessions that are gone). */
  listSessions(): Promise<string[]>;
  /** The session's worktree, ready for an agent (an overlay unmounted by a reboot is mounted again). */
  ready(sessionId: string): Promise<string>;
  /** Proves at startup that the host can make this kind of workspace; throws what to fix. */
  check(): Promise<void>;
}
