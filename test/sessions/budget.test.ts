import { describe, expect, it } from 'vitest';
import { operatorLimitsSchema } from '../../src/limits-config.js';
import {
  type BudgetFacts,
  budgetBreach,
  effectiveLimits,
  type SessionLimits,
  utcDayStart,
} from '../../src/sessions/budget.js';

const operator = (limits: Record<string, unknown> = {}) => operatorLimitsSchema.parse(limits);
const NOW = new Date('2026-12-01T23:59:30.000Z');

describe('effectiveLimits: the operator sets the most, a repository only lowers', () => {
  it.each([
    ['no limits anywhere', {}, {}, { costUsd: undefined, turns: undefined }],
    ['the operator’s apply', { costUsd: 5, turns: 10 }, {}, { costUsd: 5, turns: 10 }],
    ['a lower repository limit wins', { costUsd: 5 }, { costUsd: 2 }, { costUsd: 2 }],
    [
      'a higher repository limit does not raise it',
      { costUsd: 5 },
      { costUsd: 50 },
      { costUsd: 5 },
    ],
    ['a repository may set one the operator left unset', {}, { turns: 4 }, { turns: 4 }],
    [
      'daily: the lower of the two',
      { perRepositoryPerDay: { turns: 20, costUsd: 10 } },
      { perDay: { turns: 5, costUsd: 50 } },
      { perRepositoryPerDay: { turns: 5, costUsd: 10 } },
    ],
    [
      'the stall time a repository asks for',
      { stallMinutes: 10 },
      { stallMinutes: 3 },
      { stallMinutes: 3 },
    ],
    [
      'but never past the turn’s own limit',
      { turnMinutes: 20, stallMinutes: 10 },
      { stallMinutes: 45 },
      { stallMinutes: 20 },
    ],
  ])('%s', (_, ops, repo, expected) => {
    expect(effectiveLimits(operator(ops), repo)).toMatchObject(expected);
  });
});

const spend = (overrides: Partial<BudgetFacts> = {}): BudgetFacts => ({
  session: { costUsd: 0, turns: 0, agentSeconds: 0 },
  repositoryToday: { costUsd: 0, turns: 0 },
  installationToday: { costUsd: 0, turns: 0 },
  ...overrides,
});
const limits = (overrides: Partial<SessionLimits> = {}): SessionLimits => ({
  ...effectiveLimits(operator()),
  ...overrides,
});

describe('budgetBreach: before a turn starts', () => {
  it.each<[string, BudgetFacts, SessionLimits, string | null]>([
    [
      'nothing set, anything spent',
      spend({ session: { costUsd: 99, turns: 99, agentSeconds: 1e6 } }),
      limits(),
      null,
    ],
    [
      'under every limit',
      spend({ session: { costUsd: 1, turns: 2, agentSeconds: 60 } }),
      limits({ costUsd: 5, turns: 5, agentMinutes: 10 }),
      null,
    ],
    [
      'the session’s cost reached',
      spend({ session: { costUsd: 5.01, turns: 1, agentSeconds: 0 } }),
      limits({ costUsd: 5 }),
      "the session's cost limit of $5.00 is reached ($5.01 spent)",
    ],
    [
      'the session’s turns reached',
      spend({ session: { costUsd: 0, turns: 3, agentSeconds: 0 } }),
      limits({ turns: 3 }),
      "the session's limit of 3 turns is reached",
    ],
    [
      'the session’s agent time reached',
      spend({ session: { costUsd: 0, turns: 1, agentSeconds: 3_660 } }),
      limits({ agentMinutes: 60 }),
      "the session's limit of 60 minutes of agent time is reached (61 used)",
    ],
    [
      'the repository’s turns today',
      spend({ repositoryToday: { costUsd: 0, turns: 20 } }),
      limits({ perRepositoryPerDay: { turns: 20 } }),
      "this repository's daily budget of 20 agent turns is used up (2026-12-01 UTC)",
    ],
    [
      'the installation’s spend today',
      spend({ installationToday: { costUsd: 100, turns: 3 } }),
      limits({ perInstallationPerDay: { costUsd: 100 } }),
      "this installation's daily budget of $100.00 is used up ($100.00 on 2026-12-01 UTC)",
    ],
    [
      'the session first, when several are reached',
      spend({
        session: { costUsd: 9, turns: 0, agentSeconds: 0 },
        repositoryToday: { costUsd: 0, turns: 99 },
      }),
      limits({ costUsd: 5, perRepositoryPerDay: { turns: 1 } }),
      "the session's cost limit of $5.00 is reached ($9.00 spent)",
    ],
  ])('%s', (_, facts, lim, reason) => {
    expect(budgetBreach(facts, lim, NOW)?.reason ?? null).toBe(reason);
  });
});

describe('utcDayStart', () => {
  it.each([
    ['2026-12-01T23:59:30.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12-02T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
    ['2027-01-01T05:00:00+09:00', '2026-12-31T00:00:00.000Z'],
  ])('%s is in the UTC day starting %s', (at, start) => {
    expect(utcDayStart(new Date(at)).toISOString()).toBe(start);
  });
});
