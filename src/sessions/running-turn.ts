/**
 * What stops a turn while it runs, as a pure decision: the session's budget crossed by what the
 * turn has spent so far, or a stall (no output and no file change for the stall time).
 */
import { type SessionLimits, type Spend, sessionBreach } from './budget.js';

export interface RunningTurnFacts {
  /** The session's spend before this turn (since its budget last started over). */
  spentBefore: Spend;
  /** The turn so far: the cost its agent last reported, and how long it has run. */
  costUsd: number;
  seconds: number;
  /** Milliseconds since the agent last printed anything or changed a file. */
  quietMs: number;
}

export interface RunningTurnStop {
  kind: 'budget' | 'stall';
  /** In plain words, for the status comment, the timeline and the agent's next message. */
  reason: string;
}

/** Why the running turn must be stopped now, budget first; null while it may go on. */
export function runningTurnStop(
  facts: RunningTurnFacts,
  limits: Pick<SessionLimits, 'costUsd' | 'agentMinutes' | 'stallMinutes' | 'turnMinutes'>,
): RunningTurnStop | null {
  // The turn being run is not counted against the turn limit: it was allowed to start.
  const breach = sessionBreach(
    {
      costUsd: facts.spentBefore.costUsd + facts.costUsd,
      turns: facts.spentBefore.turns,
      agentSeconds: facts.spentBefore.agentSeconds + facts.seconds,
    },
    { costUsd: limits.costUsd, agentMinutes: limits.agentMinutes },
  );
  if (breach) return { kind: 'budget', reason: `${breach.reason}; the running turn was stopped` };
  // A stall time as long as the turn limit leaves the stop to the turn limit.
  const stalls = limits.stallMinutes < limits.turnMinutes;
  if (stalls && facts.quietMs >= limits.stallMinutes * 60_000)
    return {
      kind: 'stall',
      reason: `the turn was stopped after ${minutes(limits.stallMinutes)} with no output and no file change`,
    };
  return null;
}

function minutes(n: number): string {
  const seconds = Math.max(1, Math.round(n * 60));
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const rounded = Number((seconds / 60).toFixed(1));
  return `${rounded} minute${rounded === 1 ? '' : 's'}`;
}
