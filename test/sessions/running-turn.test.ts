import { describe, expect, it } from 'vitest';
import { operatorLimitsSchema } from '../../src/limits-config.js';
import { effectiveLimits, type SessionLimits } from '../../src/sessions/budget.js';
import {
  type RunningTurnFacts,
  type RunningTurnStop,
  runningTurnStop,
} from '../../src/sessions/running-turn.js';

// What stops a turn while it runs: each row the session's spend before the turn, the turn so far,
// the limits it works under (by default a 60-minute turn and a 10-minute stall), and the stop.

const MINUTE_MS = 60_000;

const facts = (overrides: Partial<RunningTurnFacts> = {}): RunningTurnFacts => ({
  spentBefore: { costUsd: 0, turns: 0, agentSeconds: 0 },
  costUsd: 0,
  seconds: 0,
  quietMs: 0,
  ...overrides,
});
const limits = (overrides: Partial<SessionLimits> = {}): SessionLimits => ({
  ...effectiveLimits(operatorLimitsSchema.parse({})),
  ...overrides,
});
const budget = (reason: string): RunningTurnStop => ({ kind: 'budget', reason });
const stall = (after: string): RunningTurnStop => ({
  kind: 'stall',
  reason: `the turn was stopped after ${after} with no output and no file change`,
});

describe("runningTurnStop: the session's budget, crossed while a turn runs", () => {
  it.each<[string, RunningTurnFacts, SessionLimits, RunningTurnStop | null]>([
    [
      'nothing set, anything spent: the turn goes on',
      facts({ spentBefore: { costUsd: 99, turns: 99, agentSeconds: 1e6 }, costUsd: 50 }),
      limits(),
      null,
    ],
    [
      'the spend before and the running turn’s cost together cross the cost limit',
      facts({ spentBefore: { costUsd: 0.75, turns: 1, agentSeconds: 0 }, costUsd: 0.75 }),
      limits({ costUsd: 1 }),
      budget(
        "the session's cost limit of $1.00 is reached ($1.50 spent); the running turn was stopped",
      ),
    ],
    [
      'a cost exactly at the limit stops the turn',
      facts({ spentBefore: { costUsd: 0.5, turns: 1, agentSeconds: 0 }, costUsd: 0.5 }),
      limits({ costUsd: 1 }),
      budget(
        "the session's cost limit of $1.00 is reached ($1.00 spent); the running turn was stopped",
      ),
    ],
    [
      'a cost under the limit lets it go on',
      facts({ spentBefore: { costUsd: 0.6, turns: 1, agentSeconds: 0 }, costUsd: 0.3 }),
      limits({ costUsd: 1 }),
      null,
    ],
    [
      'the agent time before and the turn’s time so far reach the agent-minutes limit',
      facts({ spentBefore: { costUsd: 0, turns: 2, agentSeconds: 1_200 }, seconds: 600 }),
      limits({ agentMinutes: 30 }),
      budget(
        "the session's limit of 30 minutes of agent time is reached (30 used); the running turn was stopped",
      ),
    ],
    [
      'a second short of the agent-minutes limit lets it go on',
      facts({ spentBefore: { costUsd: 0, turns: 2, agentSeconds: 1_200 }, seconds: 599 }),
      limits({ agentMinutes: 30 }),
      null,
    ],
    [
      'the turn limit is not checked mid-turn: the running turn was allowed to start',
      facts({ spentBefore: { costUsd: 0, turns: 5, agentSeconds: 0 } }),
      limits({ turns: 3 }),
      null,
    ],
  ])('%s', (_, f, lim, stop) => {
    expect(runningTurnStop(f, lim)).toEqual(stop);
  });
});

describe('runningTurnStop: a turn with no output and no file change', () => {
  it.each<[string, RunningTurnFacts, SessionLimits, RunningTurnStop | null]>([
    [
      'quiet for the stall time is stopped',
      facts({ quietMs: 10 * MINUTE_MS }),
      limits({ stallMinutes: 10 }),
      stall('10 minutes'),
    ],
    [
      'quiet a millisecond short of the stall time goes on',
      facts({ quietMs: 10 * MINUTE_MS - 1 }),
      limits({ stallMinutes: 10 }),
      null,
    ],
    [
      'a stall time under a minute is told in seconds',
      facts({ quietMs: 3_000 }),
      limits({ stallMinutes: 0.05 }),
      stall('3 seconds'),
    ],
    [
      'a one-minute stall time is told as one minute',
      facts({ quietMs: MINUTE_MS }),
      limits({ stallMinutes: 1 }),
      stall('1 minute'),
    ],
    [
      'a fractional stall time keeps one decimal',
      facts({ quietMs: 2.5 * MINUTE_MS }),
      limits({ stallMinutes: 2.5 }),
      stall('2.5 minutes'),
    ],
    [
      'a stall time as long as the turn limit never stalls: the turn limit stops it',
      facts({ quietMs: 600 * MINUTE_MS }),
      limits({ turnMinutes: 60, stallMinutes: 60 }),
      null,
    ],
    [
      'a stall time longer than the turn limit never stalls either',
      facts({ quietMs: 600 * MINUTE_MS }),
      limits({ turnMinutes: 60, stallMinutes: 90 }),
      null,
    ],
    [
      'the budget wins over a stall when both are due',
      facts({
        spentBefore: { costUsd: 4, turns: 1, agentSeconds: 0 },
        costUsd: 2,
        quietMs: 30 * MINUTE_MS,
      }),
      limits({ costUsd: 5, stallMinutes: 10 }),
      budget(
        "the session's cost limit of $5.00 is reached ($6.00 spent); the running turn was stopped",
      ),
    ],
  ])('%s', (_, f, lim, stop) => {
    expect(runningTurnStop(f, lim)).toEqual(stop);
  });
});

describe('the stall time in words', () => {
  it.each([
    [1 / 60, 'after 1 second '],
    [0.999, 'after 1 minute '],
    [1.04, 'after 1 minute '],
    [0.001, 'after 1 second '],
    [59.99, 'after 60 minutes '],
    [2.5, 'after 2.5 minutes '],
  ])('%s minutes reads "%s"', (stallMinutes, words) => {
    const stop = runningTurnStop(
      {
        spentBefore: { costUsd: 0, turns: 0, agentSeconds: 0 },
        costUsd: 0,
        seconds: 0,
        quietMs: stallMinutes * 60_000,
      },
      { stallMinutes, turnMinutes: 120 },
    );
    expect(stop?.reason).toContain(words);
  });
});
