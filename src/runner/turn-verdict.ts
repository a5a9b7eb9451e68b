import { type SessionLimits, type Spend, sessionBreach } from '../sessions/budget.js';
import type { EventOf, TurnUsage } from '../sessions/lifecycle-event.js';
import type { RunningTurnStop } from '../sessions/running-turn.js';
import type { TurnResult } from './runtimes/runtime.js';

/** How a turn ended, as its row and the metrics count it. */
export type TurnOutcomeKind = 'ok' | 'stopped' | 'agent-failed' | 'agent-stuck' | 'over-budget';

export interface TurnExit extends TurnResult {
  /** Set when the runner stopped the turn itself: a budget crossed, or a stall. */
  guardStop?: RunningTurnStop | undefined;
}

export function turnOutcomeOf(exit: TurnExit): TurnOutcomeKind {
  if (exit.guardStop) return exit.guardStop.kind === 'budget' ? 'over-budget' : 'agent-stuck';
  if (exit.stopped) return 'stopped';
  if (exit.timedOut) return 'agent-stuck';
  return exit.exitCode !== 0 ? 'agent-failed' : 'ok';
}

export interface FinishedTurnFacts {
  turn: number;
  exit: TurnExit;
  usage: TurnUsage;
  /** How long the agent ran. */
  seconds: number;
  /** The session's spend before this turn, since its budget last started over. */
  spentBefore: Spend;
  limits: Pick<SessionLimits, 'costUsd' | 'agentMinutes'>;
  /** Why pushing the turn's work failed, if it did. */
  pushFailure?: string | undefined;
  headSha?: string | undefined;
  /** The head before the turn: a different one after it means the turn changed files. */
  headBefore?: string | undefined;
  prNumber?: number | undefined;
}

/**
 * The state machine's event for a finished turn: the runner's own stop first (a budget, a
 * stall), then the agent's failure, then a failed push, then a budget the finished turn reached.
 * Null for a stopped turn, whose session the stop job ends.
 */
export function turnFinishedEvent(facts: FinishedTurnFacts): EventOf<'turn-finished'> | null {
  const outcome = turnOutcomeOf(facts.exit);
  if (outcome === 'stopped') return null;
  const { guardStop } = facts.exit;
  // The turn limit is not checked here: the next turn is refused before it starts.
  const reached = sessionBreach(
    {
      costUsd: facts.spentBefore.costUsd + facts.usage.costUsd,
      turns: facts.spentBefore.turns,
      agentSeconds: facts.spentBefore.agentSeconds + facts.seconds,
    },
    { costUsd: facts.limits.costUsd, agentMinutes: facts.limits.agentMinutes },
  );
  const verdict: EventOf<'turn-finished'>['verdict'] = guardStop
    ? {
        kind: guardStop.kind === 'budget' ? 'over-budget' : 'agent-stuck',
        reason: guardStop.reason,
      }
    : outcome === 'agent-stuck'
      ? { kind: outcome, reason: `turn ${facts.turn} exceeded its time limit` }
      : outcome === 'agent-failed'
        ? { kind: outcome, reason: exitReason(facts.turn, facts.exit.exitCode) }
        : facts.pushFailure
          ? { kind: 'needs-human', reason: facts.pushFailure }
          : reached
            ? { kind: 'over-budget', reason: reached.reason }
            : { kind: 'ok' };
  return {
    type: 'turn-finished',
    turn: facts.turn,
    verdict,
    usage: facts.usage,
    headSha: facts.headSha,
    prNumber: facts.prNumber,
    changed:
      facts.headSha && facts.headBefore && !facts.pushFailure
        ? facts.headSha !== facts.headBefore
        : undefined,
    seconds: facts.seconds,
  };
}

const exitReason = (turn: number, code: number | null) =>
  code === null
    ? `turn ${turn} ended without an exit status (its process was lost)`
    : `turn ${turn} exited with status ${code}`;
