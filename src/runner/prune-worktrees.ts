import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SessionStore } from '../sessions/session-store.js';
import type { Workspaces } from './workspace/workspaces.js';

/** Removes the worktrees (and HOMEs) of sessions that ended or never existed (e.g. removed while the runner was down). */
export async function pruneOrphanWorktrees(
  workspaces: Workspaces,
  store: SessionStore,
  log: Logger,
  homeOf: (sessionId: string) => string,
): Promise<void> {
  const onDisk = await workspaces.listSessions();
  const live = await store.liveAmong(onDisk);
  for (const sessionId of onDisk) {
    if (live.has(sessionId)) continue;
    const row = await store.find(sessionId);
    await workspaces
      .remove({
        sessionId,
        repo: row ? { id: row.repositoryId, cloneUrl: row.cloneUrl } : null,
        branch: row?.branch ?? null,
      })
      .catch((error: unknown) => log.warn({ err: error, sessionId }, 'could not prune worktree'));
    await rm(homeOf(sessionId), { recursive: true, force: true });
    log.info({ sessionId }, 'pruned a worktree with no live session');
  }
}
