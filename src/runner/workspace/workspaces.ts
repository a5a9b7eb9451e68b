/**
 * Workspaces: one bare mirror per repository, fetched before each new worktree, and one git
 * worktree per session on its own branch under `<root>/sessions/<sessionId>`. Git operations on
 * a mirror (fetch, worktree add and remove, prune) run one at a time; different repositories run
 * in parallel. A token reaches git only in the environment of the commands that talk to the
 * remote, and only for a remote on the configured GitHub host.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import { assertSessionId } from '../names.js';
import { GITHUB_COM, type GitHost } from '../remote-url.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { commitAll } from './commit-all.js';
import { createWorktree } from './create-worktree.js';
import { existingWorktree } from './existing-worktree.js';
import { fetchMirror } from './fetch-mirror.js';
import { type GitOptions, runGit } from './git-command.js';
import { headSha } from './head-sha.js';
import { createKeyedMutex } from './keyed-mutex.js';
import { listSessions } from './list-sessions.js';
import { createMirrors } from './mirrors.js';
import { createOverlays } from './overlays.js';
import type { OwnCheckoutDeps } from './own-checkout-deps.js';
import { collectAgentWork, ownCheckout } from './own-collect.js';
import { commitOwnCheckout } from './own-commit.js';
import { createOwnCheckout } from './own-create.js';
import { checkLayers } from './own-layers-check.js';
import { pushOwnCheckout } from './own-push.js';
import { removeOwnCheckout } from './own-remove.js';
import { pushBranch } from './push-branch.js';
import { removeWorktree } from './remove-worktree.js';
import type { WorkspaceDeps } from './workspace-deps.js';
import type { GitIdentity, Workspaces } from './workspace-types.js';

export {
  PushRejectedError,
  WorkspaceError,
  type WorkspaceErrorContext,
} from './workspace-error.js';
export type {
  CommitInput,
  CreatedWorkspace,
  CreateInput,
  FetchInput,
  GitAuth,
  GitIdentity,
  PushInput,
  PushResult,
  RemoveInput,
  WorkspaceRepo,
  Workspaces,
} from './workspace-types.js';

export const DEFAULT_IDENTITY: GitIdentity = {
  name: 'Agent Orchestrator',
  email: 'agent-orchestrator@users.noreply.github.com',
};

/** `auto`: overlays with a sandbox where this host can mount them in a namespace, else worktrees. */
export type WorkspaceCheckout = 'auto' | 'worktree' | 'overlay';

export interface WorkspacesOptions {
  /** Holds `mirrors/` and `sessions/`. */
  root: string;
  log: Logger;
  /** The author of commits made in the worktrees (default DEFAULT_IDENTITY). */
  identity?: GitIdentity;
  /** Any single git command is killed after this long (default 10 minutes). */
  timeoutMs?: number;
  /**
   * How a session's files are laid out: `worktree` checks every file out per session; `overlay`
   * mounts one shared checkout per commit under the session's own changes (overlays.ts): with a
   * sandbox, in each sandbox's own namespace (no root needed; own-layers.ts), without one, on
   * the host (root, or CAP_SYS_ADMIN). `auto` (default): overlay with a sandbox when the startup
   * check can mount one, else every file checked out per session.
   */
  checkout?: WorkspaceCheckout;
  /**
   * Where the agents run. With a sandbox, each session gets a checkout of its own whose git data
   * the runner never reads outside it (own-checkout-deps.ts); without one, a worktree of the
   * mirror.
   */
  sandbox?: Sandbox;
  /** The GitHub a token may be sent to (GHE_HOST, GHE_PROTOCOL; default https://github.com). */
  gitHost?: GitHost;
}

export function createWorkspaces({
  root,
  log,
  identity = DEFAULT_IDENTITY,
  timeoutMs = 600_000,
  checkout = 'auto',
  sandbox,
  gitHost = GITHUB_COM,
}: WorkspacesOptions): Workspaces {
  const mirrorsDir = path.resolve(root, 'mirrors');
  const sessionsDir = path.resolve(root, 'sessions');
  const git = (cwd: string, args: string[], options: Omit<GitOptions, 'cwd'> = {}) =>
    runGit(args, { cwd, ceilings: [mirrorsDir, sessionsDir], timeoutMs, ...options });
  const deps: WorkspaceDeps = {
    git,
    mirrors: createMirrors({ dir: mirrorsDir, git, identity, gitHost, log }),
    overlays: null,
    mutex: createKeyedMutex<number>(),
    log,
    sessionsDir,
    pathFor: (sessionId) => path.join(sessionsDir, assertSessionId(sessionId)),
  };
  const overlays = createOverlays({ root: path.resolve(root), git, log });
  if (sandbox && sandbox.kind !== 'off') {
    const own: OwnCheckoutDeps = {
      ...deps,
      sandbox,
      overlays,
      newOnLayers: checkout !== 'worktree',
      recordsDir: path.resolve(root, 'checkouts'),
    };
    return ownCheckouts(own, identity, checkout);
  }
  if (checkout === 'overlay') deps.overlays = overlays;
  return {
    readOnlyFor: () => [],
    layersFor: async () => undefined,
    create: (input) => createWorktree(deps, input),
    remove: (input) => removeWorktree(deps, input),
    commitAll: (input) => commitAll(deps, input),
    push: (input) => pushBranch(deps, input),
    fetch: (input) => fetchMirror(deps, input),
    headSha: (sessionId) => headSha(deps, sessionId),
    pathFor: deps.pathFor,
    listSessions: () => listSessions(sessionsDir),
    ready: (sessionId) => existingWorktree(deps, sessionId),
    async check() {
      await deps.overlays?.check();
    },
  };
}

/** Workspaces as checkouts of their own, for sessions that run in a sandbox. */
function ownCheckouts(
  deps: OwnCheckoutDeps,
  identity: GitIdentity,
  checkout: WorkspaceCheckout,
): Workspaces {
  const ready = async (sessionId: string) => (await ownCheckout(deps, sessionId)).checkout;
  return {
    readOnlyFor: (repositoryId) => [path.join(deps.mirrors.pathOf(repositoryId), 'objects')],
    layersFor: (sessionId, repositoryId) => deps.overlays.layersFor(sessionId, repositoryId),
    create: (input) => createOwnCheckout(deps, input, identity),
    remove: (input) => removeOwnCheckout(deps, input),
    commitAll: (input) => commitOwnCheckout(deps, input, identity),
    push: (input) => pushOwnCheckout(deps, input, identity),
    fetch: (input) => fetchMirror(deps, input),
    headSha: (sessionId) => collectAgentWork(deps, sessionId, identity),
    pathFor: deps.pathFor,
    listSessions: () => listSessions(deps.sessionsDir),
    ready,
    async check() {
      if (!deps.newOnLayers) return;
      try {
        await checkLayers(deps);
      } catch (error) {
        if (checkout === 'overlay') throw error;
        deps.newOnLayers = false;
        deps.log.warn(
          { err: error },
          'overlay checkouts are not available here, so each session checks out every file (set WORKSPACE_CHECKOUT=worktree to say so and skip this check)',
        );
      }
    },
  };
}
