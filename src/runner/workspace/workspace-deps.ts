import type { Logger } from 'pino';
import type { KeyedMutex } from './keyed-mutex.js';
import type { Mirrors } from './mirrors.js';
import type { Overlays } from './overlays.js';
import type { Git } from './workspace-types.js';

/** What the workspace operations share; built once by createWorkspaces. */
export interface WorkspaceDeps {
  git: Git;
  mirrors: Mirrors;
  /** Null with the `worktree` checkout. */
  overlays: Overlays | null;
  /** One git operation at a time per mirror, keyed by repository id. */
  mutex: KeyedMutex<number>;
  log: Logger;
  /** Holds the sessions' worktree folders. */
  sessionsDir: string;
  /** The session's worktree folder; throws on an unsafe session id. */
  pathFor(sessionId: string): string;
}
