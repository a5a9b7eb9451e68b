import { describe, expect, it } from 'vitest';
import {
  type FinishedTurnFacts,
  type TurnExit,
  type TurnOutcomeKind,
  turnFinishedEvent,
  turnOutcomeOf,
} from '../../src/runner/turn-verdict.js';
import type { SessionLimits } from '../../src/sessions/budget.js';
import type { TurnVerdict } from '../../src/sessions/lifecycle-event.js';
import type { RunningTurnStop } from '../../src/sessions/running-turn.js';

// How a finished turn is counted and what the state machine hears of it: each row how the turn
// ended (turn 3, $0.20 and 120 seconds by default), the session's spend before it, and its limits.

const exit = (overrides: Partial<TurnExit> = {}): TurnExit => ({
  exitCode: 0,
  timedOut: false,
  stopped: false,
  ...overrides,
});
const usage = { costUsd: 0.2, inputTokens: 100, outputTokens: 10 };
const facts = (overrides: Partial<FinishedTurnFacts> = {}): FinishedTurnFacts => ({
  turn: 3,
  exit: exit(),
  usage,
  seconds: 120,
  spentBefore: { costUsd: 0, turns: 2, agentSeconds: 0 },
  limits: {},
  headSha: 'h2',
  headBefore: 'h1',
  prNumber: 7,
  ...overrides,
});

const BUDGET_STOP: RunningTurnStop = {
  kind: 'budget',
  reason:
    "the session's cost limit of $1.00 is reached ($1.10 spent); the running turn was stopped",
};
const STALL_STOP: RunningTurnStop = {
  kind: 'stall',
  reason: 'the turn was stopped after 10 minutes with no output and no file change',
};
// The runner stops the turn's process itself for a guard, so the runtime says it was stopped.
const guardStopped = (guardStop: RunningTurnStop) =>
  exit({ exitCode: null, stopped: true, guardStop });

describe('turnOutcomeOf: how a turn ended, as its row and the metrics count it', () => {
  it.each<[string, TurnExit, TurnOutcomeKind]>([
    ['a clean exit', exit(), 'ok'],
    ['stopped by the runner for a budget', guardStopped(BUDGET_STOP), 'over-budget'],
    ['stopped by the runner for a stall', guardStopped(STALL_STOP), 'agent-stuck'],
    ['stopped by a person', exit({ exitCode: null, stopped: true }), 'stopped'],
    ['past its time limit', exit({ exitCode: null, timedOut: true }), 'agent-stuck'],
    ['a non-zero exit', exit({ exitCode: 1 }), 'agent-failed'],
    ['no exit status (its process lost)', exit({ exitCode: null }), 'agent-failed'],
  ])('%s: %s', (_, e, outcome) => {
    expect(turnOutcomeOf(e)).toBe(outcome);
  });
});

// A limit on turns that the finished turn's spend has reached, to show it is not checked here.
const withTurnLimit: SessionLimits = {
  turnMinutes: 60,
  stallMinutes: 10,
  turns: 3,
  perRepositoryPerDay: {},
  perInstallationPerDay: {},
};

describe("turnFinishedEvent: the turn's verdict", () => {
  it.each<[string, FinishedTurnFacts, TurnVerdict]>([
    ['a clean exit under every limit', facts(), { kind: 'ok' }],
    [
      'a budget the runner stopped the turn for: over budget, with the guard’s reason',
      facts({ exit: guardStopped(BUDGET_STOP) }),
      { kind: 'over-budget', reason: BUDGET_STOP.reason },
    ],
    [
      'a stall the runner stopped the turn for: the agent is stuck, with the guard’s reason',
      facts({ exit: guardStopped(STALL_STOP) }),
      { kind: 'agent-stuck', reason: STALL_STOP.reason },
    ],
    [
      'the runner’s own stop comes before a failed push',
      facts({ exit: guardStopped(STALL_STOP), pushFailure: 'the push was rejected' }),
      { kind: 'agent-stuck', reason: STALL_STOP.reason },
    ],
    [
      'past its time limit',
      facts({ exit: exit({ exitCode: null, timedOut: true }) }),
      { kind: 'agent-stuck', reason: 'turn 3 exceeded its time limit' },
    ],
    [
      'a non-zero exit',
      facts({ exit: exit({ exitCode: 2 }) }),
      { kind: 'agent-failed', reason: 'turn 3 exited with status 2' },
    ],
    [
      'no exit status',
      facts({ exit: exit({ exitCode: null }) }),
      {
        kind: 'agent-failed',
        reason: 'turn 3 ended without an exit status (its process was lost)',
      },
    ],
    [
      'the agent’s failure comes before a failed push',
      facts({ exit: exit({ exitCode: 1 }), pushFailure: 'the push was rejected' }),
      { kind: 'agent-failed', reason: 'turn 3 exited with status 1' },
    ],
    [
      'a failed push: a human is needed, told why',
      facts({ pushFailure: 'git push was rejected: the branch is protected' }),
      { kind: 'needs-human', reason: 'git push was rejected: the branch is protected' },
    ],
    [
      'a failed push comes before a budget the turn reached',
      facts({
        pushFailure: 'the push was rejected',
        spentBefore: { costUsd: 0.9, turns: 2, agentSeconds: 0 },
        limits: { costUsd: 1 },
      }),
      { kind: 'needs-human', reason: 'the push was rejected' },
    ],
    [
      'the cost limit reached by the finished turn',
      facts({ spentBefore: { costUsd: 0.9, turns: 2, agentSeconds: 0 }, limits: { costUsd: 1 } }),
      { kind: 'over-budget', reason: "the session's cost limit of $1.00 is reached ($1.10 spent)" },
    ],
    [
      'a cost still under the limit',
      facts({ spentBefore: { costUsd: 0.7, turns: 2, agentSeconds: 0 }, limits: { costUsd: 1 } }),
      { kind: 'ok' },
    ],
    [
      'the agent minutes reached with the finished turn’s time',
      facts({
        spentBefore: { costUsd: 0, turns: 2, agentSeconds: 1_800 },
        limits: { agentMinutes: 32 },
      }),
      {
        kind: 'over-budget',
        reason: "the session's limit of 32 minutes of agent time is reached (32 used)",
      },
    ],
    [
      'the turn limit is not checked after a turn: the next one is refused before it starts',
      facts({ spentBefore: { costUsd: 0, turns: 3, agentSeconds: 0 }, limits: withTurnLimit }),
      { kind: 'ok' },
    ],
  ])('%s', (_, f, verdict) => {
    expect(turnFinishedEvent(f)?.verdict).toEqual(verdict);
  });

  it.each<[string, FinishedTurnFacts]>([
    ['a clean stop', facts({ exit: exit({ exitCode: null, stopped: true }) })],
    [
      'a stop after a budget was reached',
      facts({
        exit: exit({ exitCode: null, stopped: true }),
        spentBefore: { costUsd: 5, turns: 2, agentSeconds: 0 },
        limits: { costUsd: 1 },
      }),
    ],
  ])("a person's stop sends no event (the stop job ends the session): %s", (_, f) => {
    expect(turnFinishedEvent(f)).toBeNull();
  });
});

describe('turnFinishedEvent: whether the turn changed files', () => {
  it.each<[string, Partial<FinishedTurnFacts>, boolean | undefined]>([
    ['the head moved', { headBefore: 'h1', headSha: 'h2' }, true],
    ['the head stayed', { headBefore: 'h1', headSha: 'h1' }, false],
    [
      'the push failed: unknown',
      { headBefore: 'h1', headSha: 'h2', pushFailure: 'rejected' },
      undefined,
    ],
    ['the head after is unknown', { headBefore: 'h1', headSha: undefined }, undefined],
    ['the head before is unknown', { headBefore: undefined, headSha: 'h2' }, undefined],
  ])('%s', (_, overrides, changed) => {
    expect(turnFinishedEvent(facts(overrides))?.changed).toBe(changed);
  });
});

describe('turnFinishedEvent: what it carries', () => {
  it("passes the turn's number, usage, head, pull request and time through", () => {
    expect(
      turnFinishedEvent(facts({ turn: 4, seconds: 95.5, headSha: 'h9', prNumber: 12 })),
    ).toEqual({
      type: 'turn-finished',
      turn: 4,
      verdict: { kind: 'ok' },
      usage,
      headSha: 'h9',
      prNumber: 12,
      changed: true,
      seconds: 95.5,
    });
  });
});
