import { describe, expect, it } from 'vitest';
import type { Turn } from '../../src/db/schema.js';
import { IllegalTransitionError } from '../../src/sessions/illegal-transition.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import type { SessionSnapshot, Transition, TurnFacts } from '../../src/sessions/lifecycle-event.js';
import { DEFAULT_REPO_CONFIG } from '../../src/sessions/repo-config.js';
import { sessionRules } from '../../src/sessions/session-rules.js';
import type { SessionStatus } from '../../src/sessions/session-status.js';
import { transition } from '../../src/sessions/transition.js';
import {
  reconcile,
  reconcileDue,
  type WorkingSessionFacts,
} from '../../src/sessions/transition-reconcile.js';
import { SESSION_ID, sessionRow } from './support/session-row.js';

// A session left `working` with nothing running it: when the sweep acts on it, and what the
// state machine answers (pick its unfinished turn up once, then ask a human).

const NOW = new Date('2026-12-01T12:00:00.000Z');
const ID = SESSION_ID;
const RUNNER = 'r-host-1';
const { turn, notify, statusComment } = JOB_KINDS;

const minutesAgo = (n: number) => new Date(NOW.getTime() - n * 60_000);

describe('reconcileDue: a working session nothing has run for longer than a turn may take', () => {
  const working = (overrides: Partial<WorkingSessionFacts> = {}): WorkingSessionFacts => ({
    status: 'working',
    lastActivityAt: minutesAgo(61),
    liveJobs: 0,
    followedHere: false,
    ...overrides,
  });

  it.each<[string, WorkingSessionFacts, number, number | null]>([
    ['idle a minute past the turn limit: due, with its idle minutes', working(), 60, 61],
    ['idle exactly the turn limit: not yet', working({ lastActivityAt: minutesAgo(60) }), 60, null],
    [
      'idle a second past the turn limit: due, the minutes rounded down',
      working({ lastActivityAt: new Date(minutesAgo(60).getTime() - 1_000) }),
      60,
      60,
    ],
    [
      'idle 90 minutes and 54 seconds: 90 minutes',
      working({ lastActivityAt: minutesAgo(90.9) }),
      60,
      90,
    ],
    ['idle well within the turn limit', working({ lastActivityAt: minutesAgo(10) }), 60, null],
    ['a shorter turn limit makes it due sooner', working({ lastActivityAt: minutesAgo(6) }), 5, 6],
    ['a waiting session is never due', working({ status: 'waiting' }), 60, null],
    ['a session needing a human is never due', working({ status: 'needs_human' }), 60, null],
    ['a stopped session is never due', working({ status: 'stopped' }), 60, null],
    ['a session with a turn job queued or running', working({ liveJobs: 1 }), 60, null],
    ['a session whose turn this runner follows', working({ followedHere: true }), 60, null],
  ])('%s', (_, facts, turnMinutes, due) => {
    expect(reconcileDue(facts, turnMinutes, NOW)).toBe(due);
  });
});

/** A working session on RUNNER, its turn 2 unfinished. */
function session(overrides: Partial<SessionSnapshot> = {}): SessionSnapshot {
  const row = sessionRow({
    runnerId: RUNNER,
    status: 'working',
    createdAt: new Date('2026-12-01T09:00:00.000Z'),
    updatedAt: new Date('2026-12-01T10:45:00.000Z'),
  });
  return { ...row, turns: turns(), ...overrides };
}
const unfinishedTurn = (number: number): Turn => ({
  id: 50 + number,
  sessionId: ID,
  number,
  status: 'running',
  runnerId: RUNNER,
  handle: { pid: 4242 },
  logPath: `/state/${ID}/turn-${number}.log`,
  logOffset: 0,
  exitCode: null,
  outcome: null,
  summary: null,
  costUsd: 0,
  startedAt: new Date('2026-12-01T10:45:00.000Z'),
  endedAt: null,
});
function turns(overrides: Partial<TurnFacts> = {}): TurnFacts {
  return { last: 2, unfinished: unfinishedTurn(2), pending: [], ...overrides };
}

const IDLE = 75;
const event = { type: 'reconcile', idleMinutes: IDLE } as const;
const HALT_REASON = 'the session was working but nothing ran it for 75 minutes';

describe('reconcile: an unfinished turn is picked up again once', () => {
  it.each<[string, SessionSnapshot, number]>([
    ['the first time for an unfinished turn', session(), 2],
    [
      'a later unfinished turn, after an earlier one was picked up',
      session({
        guards: { reconciledTurn: 1 },
        turns: turns({ last: 3, unfinished: unfinishedTurn(3) }),
      }),
      3,
    ],
  ])('%s: a turn job for its runner, the turn remembered', (_, from, number) => {
    const t = reconcile(from, event);
    expect(t.status).toBe('working');
    expect(t.enqueue).toEqual([
      expect.objectContaining({
        kind: turn,
        sessionId: ID,
        runnerId: RUNNER,
        payload: { sessionId: ID },
      }),
    ]);
    expect(t.record).toEqual([
      { kind: 'reconciled', data: { turn: number, action: 'resume', idleMinutes: IDLE } },
    ]);
    expect(t.changes.guards).toMatchObject({ reconciledTurn: number });
    expect(t.changes.statusReason).toBeUndefined();
  });

  it("keeps what the session's guards already counted", () => {
    const from = session({ guards: { turns: 4, agentSeconds: 900, noChangeTurns: 1 } });
    expect(reconcile(from, event).changes.guards).toMatchObject({
      turns: 4,
      agentSeconds: 900,
      noChangeTurns: 1,
      reconciledTurn: 2,
    });
  });

  it('refuses a snapshot without its turn facts', () => {
    expect(() => reconcile(session({ turns: undefined }), event)).toThrow(
      "reconcile needs the session's turn facts",
    );
  });
});

describe('reconcile: otherwise a human is asked', () => {
  it.each<[string, SessionSnapshot, number | null]>([
    ['the same unfinished turn a second time', session({ guards: { reconciledTurn: 2 } }), 2],
    ['no unfinished turn to pick up', session({ turns: turns({ last: 3, unfinished: null }) }), 3],
    ['no turn at all yet', session({ turns: turns({ last: null, unfinished: null }) }), null],
    ['an unfinished turn but no runner to run it on', session({ runnerId: null }), 2],
  ])('%s', (_, from, number) => {
    const t: Transition = reconcile(from, event);
    expect(t.status).toBe('needs_human');
    expect(t.changes.statusReason).toBe(HALT_REASON);
    expect(t.record).toEqual([
      { kind: 'guard', data: { guard: 'reconcile', turn: number, reason: HALT_REASON } },
    ]);
    expect(t.enqueue.map((j) => j.kind)).toEqual([notify, statusComment]);
    expect(t.enqueue[0]?.payload).toMatchObject({
      sessionId: ID,
      reason: 'guard',
      text: expect.stringContaining(HALT_REASON),
    });
    expect(t.changes.guards).toBeUndefined();
  });
});

describe('the state machine with a reconcile', () => {
  const rules = sessionRules(DEFAULT_REPO_CONFIG);

  it('picks the unfinished turn of a working session up', () => {
    const t = transition(session(), event, rules, NOW);
    expect(t.status).toBe('working');
    expect(t.enqueue.map((j) => j.kind)).toEqual([turn]);
  });

  it.each<SessionStatus>(['queued', 'spawning', 'waiting', 'needs_human', 'stopped', 'merged'])(
    'is refused from %s',
    (status) => {
      let thrown: unknown;
      try {
        transition(session({ status }), event, rules, NOW);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(IllegalTransitionError);
      expect(thrown).toMatchObject({ from: status, event: 'reconcile', sessionId: ID });
    },
  );
});
