import type { Session, Turn } from '../db/schema.js';
import type { JobContext } from '../jobs/worker.js';
import { effectiveLimits } from '../sessions/budget.js';
import { sessionSpend } from '../sessions/guards.js';
import { configOf } from '../sessions/session-context.js';
import { markTurnRunning } from '../sessions/turn-store.js';
import type { AgentAdapter } from './adapters/adapter.js';
import { afterTurn } from './after-turn.js';
import { followTurnLog } from './follow-turn-log.js';
import type { RunnerDeps } from './runner-deps.js';
import type { RunningTurn, TurnResult } from './runtimes/runtime.js';
import { turnHandleOf } from './runtimes/turn-handle.js';
import { turnCgroupName, turnSpec } from './turn-command.js';
import { writeTurnInput } from './turn-files.js';
import { guardTurn } from './turn-guard.js';

/**
 * Runs one turn, or takes over one an earlier process started, and follows it to its end; returns
 * early, leaving the agent running to be adopted, when the job is taken away.
 */
export async function runTurn(
  deps: RunnerDeps,
  session: Session,
  turn: Turn,
  adapter: AgentAdapter,
  context: JobContext,
): Promise<void> {
  await writeTurnInput(deps, session, turn);
  const spec = await turnSpec(deps, adapter, session, turn);
  const handle = turnHandleOf(turn.handle);
  context.log.debug({ turn: turn.number, adopting: Boolean(handle) }, 'running turn');
  let running: RunningTurn | undefined = deps.active.get(session.id);
  let finishedEarlier: TurnResult | undefined;
  if (!running && handle) {
    const adopted = await deps.runtime.adopt(spec, handle);
    if ('done' in adopted) running = adopted;
    else finishedEarlier = adopted;
    await deps.sessions.record(session.id, 'turn-adopted', {
      turn: turn.number,
      alive: Boolean(running),
    });
  }
  if (!running && !finishedEarlier) {
    await deps.workspaces.ready(session.id); // an overlay unmounted by a reboot is mounted again
    if (deps.sandbox.kind === 'off') {
      context.log.warn({ turn: turn.number }, 'the turn runs without a sandbox (SANDBOX=off)');
    }
    running = await deps.runtime.start(spec);
    await markTurnRunning(deps.db, turn.id, running.handle);
    await deps.sessions.record(session.id, 'turn-started', {
      turn: turn.number,
      argv0: spec.program ?? spec.argv[0],
      sandbox: deps.sandbox.kind,
    });
  }
  if (running) deps.active.set(session.id, running);

  // An overlay checkout's changes are in its upper layer: the folder is mounted only in the sandbox.
  const changes = await deps.workspaces.layersFor(session.id, session.repositoryId);
  const guard =
    running &&
    guardTurn({
      limits: effectiveLimits(deps.operatorConfig.limits, configOf(session).limits),
      spentBefore: sessionSpend(session),
      logPath: turn.logPath,
      workdir: changes?.upper ?? session.workspacePath!,
      startedAt: running.handle.startedAt,
    });
  const outcome = await followTurnLog(deps, {
    session,
    turn,
    adapter,
    running,
    finished: finishedEarlier,
    signal: context.signal,
    guard,
  });
  if (outcome === 'detached') return; // shutting down or lease lost: the turn runs on, to be adopted
  deps.active.delete(session.id);
  await deps.limits?.close(turnCgroupName(session.id, turn)).catch((error: unknown) => {
    context.log.warn({ err: error, turn: turn.number }, "could not remove the turn's cgroups");
  });
  await afterTurn(deps, session, turn, outcome);
}
