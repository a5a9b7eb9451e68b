import { rm } from 'node:fs/promises';
import type { StopJobPayload } from '../sessions/job-kinds.js';
import { isTerminal } from '../sessions/session-status.js';
import { finishTurn, unfinishedTurn } from '../sessions/turn-store.js';
import { applyUnlessEnded } from './apply-unless-ended.js';
import type { RunnerDeps } from './runner-deps.js';
import { turnHandleOf } from './runtimes/turn-handle.js';
import { homeOf } from './sandboxed-argv.js';
import { exitFileOf, turnCgroupName } from './turn-command.js';

/**
 * Ends a session on the runner that holds it: stops its running turn (every process of it, one
 * this process runs or one an earlier process left), removes the worktree when asked, and tells
 * the state machine the session is over.
 */
export async function stopSession(deps: RunnerDeps, stop: StopJobPayload): Promise<void> {
  const { sessionId, status, reason, cleanup } = stop;
  const session = await deps.store.find(sessionId);
  if (!session || isTerminal(session.status)) return;
  const unfinished = await unfinishedTurn(deps.db, sessionId);
  const running = deps.active.get(sessionId);
  const handle = turnHandleOf(unfinished?.handle);
  if (running) {
    await running.stop();
  } else if (unfinished && handle) {
    const adopted = await deps.runtime.adopt(
      {
        sessionId,
        turnId: unfinished.id,
        argv: ['true'],
        env: {},
        cwd: session.workspacePath ?? deps.stateRoot,
        logFile: unfinished.logPath,
        exitFile: exitFileOf(unfinished),
        timeoutMs: 60_000,
      },
      handle,
    );
    if ('done' in adopted) await adopted.stop();
  }
  if (unfinished) {
    await deps.limits?.close(turnCgroupName(sessionId, unfinished)).catch((error: unknown) => {
      deps.log.warn({ err: error, sessionId }, "could not remove the stopped turn's cgroups");
    });
    await finishTurn(deps.db, unfinished.id, {
      exitCode: unfinished.exitCode,
      outcome: 'stopped',
      summary: unfinished.summary,
      costUsd: unfinished.costUsd,
    });
  }
  await deps.egress?.close(sessionId);
  if (cleanup && session.workspacePath && session.branch) {
    await deps.workspaces.remove({
      sessionId,
      repo: { id: session.repositoryId, cloneUrl: session.cloneUrl },
      branch: session.branch,
    });
  }
  if (cleanup) await rm(homeOf(deps, sessionId), { recursive: true, force: true });
  await applyUnlessEnded(deps, sessionId, { type: 'ended', status, reason, cleanedUp: cleanup });
}
