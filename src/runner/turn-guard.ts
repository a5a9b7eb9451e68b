import type { SessionLimits, Spend } from '../sessions/budget.js';
import { type RunningTurnStop, runningTurnStop } from '../sessions/running-turn.js';
import { logActivity } from './runtimes/log-cap.js';
import { worktreeFingerprint } from './worktree-fingerprint.js';

export interface TurnGuard {
  /** Settles with the reason the turn must be stopped; stays pending while it may go on. */
  readonly tripped: Promise<RunningTurnStop>;
  /** The cost the agent last reported for the turn so far. */
  noteCost(costUsd: number): void;
  close(): void;
}

export interface TurnGuardInput {
  limits: Pick<SessionLimits, 'costUsd' | 'agentMinutes' | 'stallMinutes' | 'turnMinutes'>;
  spentBefore: Spend;
  /** The turn's log: it (or, past its head, its spill files) growing is output. */
  logPath: string;
  /** The worktree: a file in it changing is progress too. */
  workdir: string;
  /** When the agent started (ms since the epoch), for its time against the session's budget. */
  startedAt: number;
  /** How often to look; by default a tenth of the stall time, between 250 ms and 30 s. */
  checkMs?: number;
}

/**
 * Watches a running turn for what must stop it (the session's budget, a stall) and says so
 * through `tripped`; the decision is `runningTurnStop`, this only gathers the facts.
 */
export function guardTurn(input: TurnGuardInput): TurnGuard {
  const stallMs = input.limits.stallMinutes * 60_000;
  const checkMs = input.checkMs ?? Math.min(30_000, Math.max(250, stallMs / 10));
  let costUsd = 0;
  let activeAt = Date.now();
  let logMark = '';
  let fingerprint: string | undefined;
  let checking = false;
  let closed = false;
  let trip: (stop: RunningTurnStop) => void = () => {};
  const tripped = new Promise<RunningTurnStop>((resolve) => {
    trip = resolve;
  });

  const sawActivity = async (): Promise<boolean> => {
    const mark = await logActivity(input.logPath);
    if (mark !== logMark) {
      logMark = mark;
      fingerprint = undefined; // taken afresh once the output stops
      return true;
    }
    const now = await worktreeFingerprint(input.workdir);
    const changed = now !== fingerprint;
    fingerprint = now;
    return changed;
  };

  const evaluate = () => {
    if (closed) return;
    const now = Date.now();
    const stop = runningTurnStop(
      {
        spentBefore: input.spentBefore,
        costUsd,
        seconds: (now - input.startedAt) / 1000,
        quietMs: now - activeAt,
      },
      input.limits,
    );
    if (!stop) return;
    closed = true;
    clearInterval(timer);
    trip(stop);
  };
  const check = async () => {
    if (checking || closed) return;
    checking = true;
    try {
      if (await sawActivity()) activeAt = Date.now();
    } finally {
      checking = false;
    }
    evaluate();
  };
  const timer = setInterval(() => void check().catch(() => {}), checkMs);
  timer.unref();

  return {
    tripped,
    noteCost(reported) {
      costUsd = reported;
      evaluate(); // a budget crossed is acted on at once, not at the next look
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
