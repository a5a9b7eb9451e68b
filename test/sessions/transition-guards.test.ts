import { describe, expect, it } from 'vitest';
import { guardsSchema, operatorLimitsSchema } from '../../src/limits-config.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import type {
  DailySpend,
  LifecycleEvent,
  SessionSnapshot,
  Transition,
  TurnFacts,
} from '../../src/sessions/lifecycle-event.js';
import { DEFAULT_REPO_CONFIG, repoConfigSchema } from '../../src/sessions/repo-config.js';
import { sessionRules } from '../../src/sessions/session-rules.js';
import type { SessionStatus } from '../../src/sessions/session-status.js';
import { transition } from '../../src/sessions/transition.js';
import { sessionRow } from './support/session-row.js';

// The budgets and loop guards, as the state machine applies them: each row a session, an event,
// the operator's limits and guards, and what follows.

const NOW = new Date('2026-12-01T12:00:00.000Z');

function session(overrides: Partial<SessionSnapshot> = {}): SessionSnapshot {
  const row = sessionRow({ installationId: 7, createdAt: NOW, updatedAt: NOW });
  return { turns: facts(), ...row, ...overrides };
}
function facts(overrides: Partial<TurnFacts> = {}): TurnFacts {
  return { last: 1, unfinished: null, pending: [{ id: 1 }], ...overrides };
}
const daily = (repoTurns: number, installationCost = 0): DailySpend => ({
  repositoryToday: { costUsd: 0, turns: repoTurns },
  installationToday: { costUsd: installationCost, turns: repoTurns },
});

const chosen: LifecycleEvent = {
  type: 'turn-chosen',
  first: false,
  runnerId: 'r-host-1',
  stateDir: '/s',
};
const finished = (
  changed: boolean,
  verdict: Extract<LifecycleEvent, { type: 'turn-finished' }>['verdict'] = { kind: 'ok' },
): LifecycleEvent => ({
  type: 'turn-finished',
  turn: 2,
  verdict,
  usage: { costUsd: 0.25, inputTokens: 10, outputTokens: 1 },
  changed,
  seconds: 90,
});
const ciFailed = (signature: string): LifecycleEvent => ({
  type: 'reaction',
  key: 'ci-failed',
  headSha: 'h1',
  body: 'lint failed',
  signature,
});
const minutesAgo = (n: number) => new Date(NOW.getTime() - n * 60_000).toISOString();

interface Row {
  name: string;
  from: SessionSnapshot;
  event: LifecycleEvent;
  operator?: { limits?: Record<string, unknown>; guards?: Record<string, unknown> };
  repo?: Record<string, unknown>;
  to: SessionStatus;
  record?: string[];
  /** Data of the budget or guard event recorded, when one is. */
  trip?: Record<string, unknown>;
  jobs?: string[];
  guards?: Record<string, unknown>;
  check?: (t: Transition) => void;
}

const { notify, statusComment, turn } = JOB_KINDS;

const ROWS: Row[] = [
  {
    name: 'a session under its budgets runs its next turn',
    from: session({ costUsd: 1, guards: { turns: 2 } }),
    event: chosen,
    operator: { limits: { costUsd: 5, turns: 5 } },
    to: 'working',
  },
  {
    name: 'a session at its cost limit starts no turn: a human is told why',
    from: session({ costUsd: 5.2 }),
    event: chosen,
    operator: { limits: { costUsd: 5 } },
    to: 'needs_human',
    record: ['budget'],
    trip: {
      scope: 'session',
      reason: "the session's cost limit of $5.00 is reached ($5.20 spent)",
    },
    jobs: [notify, statusComment],
    check: (t) => expect(t.turn).toBeUndefined(),
  },
  {
    name: 'a session at its turn limit starts no turn',
    from: session({ guards: { turns: 3 } }),
    event: chosen,
    operator: { limits: { turns: 3 } },
    to: 'needs_human',
    trip: { scope: 'session', reason: "the session's limit of 3 turns is reached" },
  },
  {
    name: "a repository's lower turn limit counts",
    from: session({ guards: { turns: 2 } }),
    event: chosen,
    operator: { limits: { turns: 10 } },
    repo: { limits: { turns: 2 } },
    to: 'needs_human',
  },
  {
    name: "a repository's daily turns used up stop a session's next turn",
    from: session({ daily: daily(20) }),
    event: chosen,
    operator: { limits: { perRepositoryPerDay: { turns: 20 } } },
    to: 'needs_human',
    trip: {
      scope: 'repository',
      reason: "this repository's daily budget of 20 agent turns is used up (2026-12-01 UTC)",
    },
  },
  {
    name: "an installation's daily spend used up stops it too",
    from: session({ daily: daily(0, 50) }),
    event: chosen,
    operator: { limits: { perInstallationPerDay: { costUsd: 50 } } },
    to: 'needs_human',
    trip: { scope: 'installation' },
  },
  {
    name: 'after a retry the budget starts over from what was spent',
    from: session({
      costUsd: 5.2,
      guards: { turns: 4, budgetFrom: { costUsd: 5, turns: 4, agentSeconds: 0 } },
    }),
    event: chosen,
    operator: { limits: { costUsd: 5 } },
    to: 'working',
  },
  {
    name: 'a retry of a session stopped by its budget starts the budget and the counts over',
    from: session({
      status: 'needs_human',
      costUsd: 5.2,
      guards: { turns: 4, agentSeconds: 600, noChangeTurns: 2, automated: [minutesAgo(5)] },
    }),
    event: { type: 'retry', by: 'alice' },
    to: 'needs_human',
    guards: {
      budgetFrom: { costUsd: 5.2, turns: 4, agentSeconds: 600 },
      noChangeTurns: 0,
      automated: [],
    },
  },
  {
    name: 'a finished turn adds its turn and time to what the guards count',
    from: session({ status: 'working', guards: { turns: 1, agentSeconds: 30 } }),
    event: finished(true),
    to: 'waiting',
    guards: { turns: 2, agentSeconds: 120, noChangeTurns: 0 },
  },
  {
    name: 'a turn that crossed a budget while it ran: a human is told',
    from: session({ status: 'working' }),
    event: finished(true, {
      kind: 'over-budget',
      reason: "the session's cost limit of $5.00 is reached ($5.10 spent)",
    }),
    to: 'needs_human',
    record: ['budget'],
    jobs: [notify, statusComment],
  },
  {
    name: 'a second turn in a row that changes no file waits for review as usual',
    from: session({ status: 'working', guards: { noChangeTurns: 1 } }),
    event: finished(false),
    to: 'waiting',
    guards: { noChangeTurns: 2 },
  },
  {
    name: 'the third turn in a row that changes no file asks a human',
    from: session({ status: 'working', guards: { noChangeTurns: 2 } }),
    event: finished(false),
    to: 'needs_human',
    record: ['guard'],
    trip: { guard: 'no-change', reason: '3 turns in a row changed no file' },
    jobs: [notify, statusComment],
  },
  {
    name: 'a turn that changes something starts the no-change count over',
    from: session({ status: 'working', guards: { noChangeTurns: 2 } }),
    event: finished(true),
    to: 'waiting',
    guards: { noChangeTurns: 0 },
  },
  {
    name: 'the operator sets how many no-change turns',
    from: session({ status: 'working', guards: { noChangeTurns: 2 } }),
    event: finished(false),
    operator: { guards: { noChangeTurns: 5 } },
    to: 'waiting',
  },
  {
    name: 'a first CI failure is sent, its signature kept with the turns so far',
    from: session({ guards: { turns: 2 } }),
    event: ciFailed('sig-a'),
    to: 'waiting',
    record: ['reaction', 'message-queued'],
    guards: { ci: { signature: 'sig-a', afterTurns: 2 } },
    check: (t) => expect(t.dropPending).toEqual(['ci-failed']),
  },
  {
    name: 'the same CI failure after the agent had a turn escalates instead of retrying',
    from: session({ guards: { turns: 3, ci: { signature: 'sig-a', afterTurns: 2 } } }),
    event: ciFailed('sig-a'),
    to: 'needs_human',
    record: ['reaction', 'guard'],
    trip: {
      guard: 'same-ci-failure',
      reason: 'the same CI failure came back after the agent had a turn to fix it',
    },
    jobs: [notify, statusComment],
    check: (t) => expect(t.messages).toEqual([]),
  },
  {
    name: 'the same CI failure reported again before any turn is sent again (a re-run)',
    from: session({ guards: { turns: 2, ci: { signature: 'sig-a', afterTurns: 2 } } }),
    event: ciFailed('sig-a'),
    to: 'waiting',
    jobs: [turn, statusComment],
  },
  {
    name: 'a different CI failure after a turn is sent',
    from: session({ guards: { turns: 3, ci: { signature: 'sig-a', afterTurns: 2 } } }),
    event: ciFailed('sig-b'),
    to: 'waiting',
    guards: { ci: { signature: 'sig-b', afterTurns: 3 } },
  },
  {
    name: 'the repeated-failure guard can be turned off',
    from: session({ guards: { turns: 3, ci: { signature: 'sig-a', afterTurns: 2 } } }),
    event: ciFailed('sig-a'),
    operator: { guards: { sameCiFailure: false } },
    to: 'waiting',
  },
  {
    name: 'one automated message more than the hour allows pauses the session',
    from: session({ guards: { automated: [minutesAgo(50), minutesAgo(10)] } }),
    event: ciFailed('sig-c'),
    operator: { guards: { automatedPerHour: 2 } },
    to: 'needs_human',
    trip: {
      guard: 'automated',
      reason: 'more than 2 automated messages reached the session within an hour',
    },
    check: (t) => expect(t.messages).toEqual([]),
  },
  {
    name: 'messages older than the hour no longer count',
    from: session({ guards: { automated: [minutesAgo(61), minutesAgo(70), minutesAgo(10)] } }),
    event: ciFailed('sig-c'),
    operator: { guards: { automatedPerHour: 2 } },
    to: 'waiting',
    check: (t) => expect((t.changes.guards as { automated: string[] }).automated).toHaveLength(2),
  },
  {
    name: "an allow-listed bot's messages count as automated",
    from: session({ guards: { automated: [minutesAgo(1), minutesAgo(2)] } }),
    event: { type: 'message', body: 'bump', source: 'renovate[bot]', automated: true },
    operator: { guards: { automatedPerHour: 2 } },
    to: 'needs_human',
    trip: { guard: 'automated' },
  },
  {
    name: "a human's message is never counted",
    from: session({ guards: { automated: [minutesAgo(1), minutesAgo(2)] } }),
    event: { type: 'message', body: 'please also', source: 'alice' },
    operator: { guards: { automatedPerHour: 2 } },
    to: 'waiting',
    record: ['message-queued'],
  },
  {
    name: "a human's command starts the guards' counts over",
    from: session({
      guards: {
        noChangeTurns: 2,
        automated: [minutesAgo(1)],
        ci: { signature: 's', afterTurns: 1 },
        turns: 3,
      },
    }),
    event: { type: 'human-command', by: 'alice' },
    to: 'waiting',
    guards: { noChangeTurns: 0, automated: [], turns: 3 },
    check: (t) => expect(t.changes.guards).not.toHaveProperty('ci'),
  },
];

describe('the state machine with budgets and loop guards', () => {
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const operator = {
      limits: operatorLimitsSchema.parse(row.operator?.limits ?? {}),
      guards: guardsSchema.parse(row.operator?.guards ?? {}),
    };
    const repo = row.repo ? repoConfigSchema.parse(row.repo) : DEFAULT_REPO_CONFIG;
    const t = transition(row.from, row.event, sessionRules(repo, operator), NOW);
    expect(t.status).toBe(row.to);
    if (row.record) expect(t.record.map((e) => e.kind)).toEqual(row.record);
    if (row.trip) {
      const trip = t.record.find((e) => e.kind === 'budget' || e.kind === 'guard');
      expect(trip?.data).toMatchObject(row.trip);
      expect(t.changes.statusReason).toBe(trip?.data.reason);
    }
    if (row.jobs) expect([...new Set(t.enqueue.map((j) => j.kind))]).toEqual(row.jobs);
    if (row.guards) expect(t.changes.guards).toMatchObject(row.guards);
    row.check?.(t);
  });
});
