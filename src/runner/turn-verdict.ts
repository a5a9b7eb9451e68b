import type { EventOf, TurnUsage } from '../sessions/lifecycle-event.js';
import type { TurnResult } from './runtimes/runtime.js';

/** How a turn ended, as its row and the metrics count it. */
export type TurnOutcomeKind = 'ok' | 'stopped' | 'agent-failed' | 'agent-stuck';

export function turnOutcomeOf(exit: TurnResult): TurnOutcomeKind {
  if (exit.stopped) return 'stopped';
  if (exit.timedOut) return 'agent-stuck';
  return exit.exitCode !== 0 ? 'agent-failed' : 'ok';
}

export interface FinishedTurnFacts {
  turn: number;
  exit: TurnResult;
  usage: TurnUsage;
  /** What the session had spent before this turn. */
  spentBefore: number;
  /** The operator's per-session cost limit, if any. */
  costLimitUsd?: number | undefined;
  /** Why pushing the turn's work failed, if it did. */
  pushFailure?: string | undefined;
  headSha?: string | undefined;
  prNumber?: number | undefined;
}

/**
 * The state machine's event for a finished turn: the agent's failure first, then a failed push,
 * then the cost limit. Null for a stopped turn, whose session the stop job ends.
 */
export function turnFinishedEvent(facts: FinishedTurnFacts): EventOf<'turn-finished'> | null {
  const outcome = turnOutcomeOf(facts.exit);
  if (outcome === 'stopped') return null;
  const spent = facts.spentBefore + facts.usage.costUsd;
  const limit = facts.costLimitUsd;
  const verdict: EventOf<'turn-finished'>['verdict'] =
    outcome === 'agent-stuck'
      ? { kind: outcome, reason: `turn ${facts.turn} exceeded its time limit` }
      : outcome === 'agent-failed'
        ? { kind: outcome, reason: `turn ${facts.turn} exited with status ${facts.exit.exitCode}` }
        : facts.pushFailure
          ? { kind: 'needs-human', reason: facts.pushFailure }
          : limit !== undefined && spent >= limit
            ? {
                kind: 'needs-human',
                reason: `cost limit of $${limit} reached ($${spent.toFixed(2)})`,
              }
            : { kind: 'ok' };
  return {
    type: 'turn-finished',
    turn: facts.turn,
    verdict,
    usage: facts.usage,
    headSha: facts.headSha,
    prNumber: facts.prNumber,
  };
}
