import type { Session, Turn } from '../db/schema.js';
import { effectiveLimits } from '../sessions/budget.js';
import { sessionSpend } from '../sessions/guards.js';
import { configOf, contextOf } from '../sessions/session-context.js';
import { finishTurn } from '../sessions/turn-store.js';
import { agentProfileOf } from './agent-profile.js';
import { applyUnlessEnded } from './apply-unless-ended.js';
import type { TurnOutcome } from './follow-turn-log.js';
import { pushTurnWork } from './push-turn-work.js';
import type { RunnerDeps } from './runner-deps.js';
import { turnFinishedEvent, turnOutcomeOf } from './turn-verdict.js';

/**
 * A turn ended: its row is finished and counted (once, by whoever finishes it), its work pushed
 * and its pull request opened, and the state machine told how it went.
 */
export async function afterTurn(
  deps: RunnerDeps,
  session: Session,
  turn: Turn,
  outcome: TurnOutcome,
): Promise<void> {
  const { result } = outcome;
  const kind = turnOutcomeOf(outcome);
  const usage = {
    costUsd: result?.costUsd ?? 0,
    inputTokens: result?.inputTokens ?? 0,
    outputTokens: result?.outputTokens ?? 0,
  };
  const finished = await finishTurn(deps.db, turn.id, {
    exitCode: outcome.exitCode,
    outcome: kind,
    summary: result?.summary,
    costUsd: usage.costUsd,
  });
  const seconds = finished?.endedAt
    ? (finished.endedAt.getTime() - finished.startedAt.getTime()) / 1000
    : 0;
  if (finished?.endedAt) {
    deps.metrics?.turnFinished({
      agent: agentProfileOf(session, configOf(session), deps.operatorConfig).agent,
      outcome: kind,
      seconds,
      ...usage,
    });
  }
  await deps.sessions.record(session.id, 'turn-finished', {
    turn: turn.number,
    exitCode: outcome.exitCode,
    timedOut: outcome.timedOut,
    stopped: outcome.stopped,
    costUsd: usage.costUsd,
    ...(outcome.guardStop ? { stoppedFor: outcome.guardStop.kind } : {}),
  });
  if (kind === 'stopped') return; // the stop job ends the session

  const current = (await deps.store.find(session.id))!;
  const work = await pushTurnWork(deps, current, { number: turn.number, summary: result?.summary });
  const event = turnFinishedEvent({
    turn: turn.number,
    exit: outcome,
    usage,
    seconds,
    spentBefore: sessionSpend(current),
    limits: effectiveLimits(deps.operatorConfig.limits, configOf(current).limits),
    pushFailure: work.failure,
    headSha: work.headSha,
    headBefore: current.headSha ?? contextOf(current).baseSha,
    prNumber: work.prNumber,
  });
  if (event) await applyUnlessEnded(deps, session.id, event);
}
