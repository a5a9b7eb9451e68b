import { describe, expect, it } from 'vitest';
import type { Turn } from '../../src/db/schema.js';
import type { NewJob } from '../../src/jobs/queue.js';
import { IllegalTransitionError } from '../../src/sessions/illegal-transition.js';
import { JOB_KINDS } from '../../src/sessions/job-kinds.js';
import type {
  LifecycleEvent,
  SessionChanges,
  SessionSnapshot,
  Transition,
  TurnFacts,
  TurnVerdict,
} from '../../src/sessions/lifecycle-event.js';
import {
  DEFAULT_REPO_CONFIG,
  type RepoConfig,
  repoConfigSchema,
} from '../../src/sessions/repo-config.js';
import { sessionRules } from '../../src/sessions/session-rules.js';
import { isTerminal, type SessionStatus } from '../../src/sessions/session-status.js';
import { transition } from '../../src/sessions/transition.js';
import { RETRY_MESSAGE } from '../../src/sessions/transition-session.js';
import { SESSION_ID, sessionRow } from './support/session-row.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const ID = SESSION_ID;
const RUNNER = 'r-host-1';
const OTHER_RUNNER = 'r-host-2';
const STATE_DIR = `/state/${ID}`;
const { spawn, turn, stop, notify, reaction, statusComment } = JOB_KINDS;

/** A full sessions row: a session with a runner, a workspace and pull request #7, waiting. */
function session(overrides: Partial<SessionSnapshot> = {}): SessionSnapshot {
  const row = sessionRow({ runnerId: RUNNER });
  return { ...row, ...overrides };
}

/** A session no runner has taken yet. */
const queued = (overrides: Partial<SessionSnapshot> = {}) =>
  session({
    status: 'queued',
    runnerId: null,
    workspacePath: null,
    branch: null,
    baseBranch: null,
    headSha: null,
    prNumber: null,
    ...overrides,
  });

/** What the machine knows of the turns: by default one ran, none is unfinished, none queued. */
function turns(overrides: Partial<TurnFacts> = {}): TurnFacts {
  return { last: 1, unfinished: null, pending: [], ...overrides };
}
const pending = (...ids: number[]) => ids.map((id) => ({ id }));

const unfinishedTurn: Turn = {
  id: 51,
  sessionId: ID,
  number: 2,
  status: 'running',
  runnerId: RUNNER,
  handle: { pid: 4242 },
  logPath: `${STATE_DIR}/turn-2.log`,
  logOffset: 0,
  exitCode: null,
  outcome: null,
  summary: null,
  costUsd: 0,
  startedAt: new Date('2026-12-01T11:50:00.000Z'),
  endedAt: null,
};

const withReactions = (reactions: unknown): RepoConfig => repoConfigSchema.parse({ reactions });

const created: LifecycleEvent = {
  type: 'created',
  sessionId: ID,
  triggeredBy: 'alice',
  agent: 'claude-code',
};
const spawnStarted = (runnerId = RUNNER): LifecycleEvent => ({
  type: 'spawn-started',
  runnerId,
  branch: 'agent/1-x',
  baseBranch: 'main',
});
const chosen = (first: boolean): LifecycleEvent => ({
  type: 'turn-chosen',
  first,
  runnerId: RUNNER,
  stateDir: STATE_DIR,
});
const finished = (verdict: TurnVerdict): LifecycleEvent => ({
  type: 'turn-finished',
  turn: 2,
  verdict,
  usage: { costUsd: 0.5, inputTokens: 50, outputTokens: 5 },
  headSha: 'h2',
  prNumber: 8,
});
/** What every turn-finished row adds to a session that had spent nothing. */
const spent = { costUsd: 0.5, inputTokens: 50, outputTokens: 5, headSha: 'h2' };
const stopRequested: LifecycleEvent = {
  type: 'stop-requested',
  status: 'stopped',
  reason: 'stopped by @alice',
  cleanup: true,
  by: 'alice',
};
const ciFailed: LifecycleEvent = {
  type: 'reaction',
  key: 'ci-failed',
  headSha: 'h1',
  body: 'test/x.test.ts failed',
};
const message: LifecycleEvent = { type: 'message', body: 'also the docs', source: 'wes' };
const retry: LifecycleEvent = { type: 'retry', by: 'alice' };
const humanCommand: LifecycleEvent = { type: 'human-command', by: 'alice' };
const planTurn = (number: number, messageIds: number[] = []): Transition['turn'] => ({
  start: { number, runnerId: RUNNER, logPath: `${STATE_DIR}/turn-${number}.log`, messageIds },
});

/**
 * Job kinds in order. Status-comment jobs collapse to one pending per session when written, so
 * a second one in the same transition is listed once.
 */
const jobKinds = (t: Transition) =>
  t.enqueue
    .map((job) => job.kind)
    .filter((kind, i, all) => kind !== statusComment || all.indexOf(kind) === i);

/** What fn threw, or undefined when it returned. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Rows as [name, row], so a test's title is its name in full. */
const named = <T extends { name: string }>(rows: T[]) =>
  rows.map((row) => [row.name, row] as const);

interface Row {
  name: string;
  from: SessionSnapshot | null;
  event: LifecycleEvent;
  config?: RepoConfig;
  to: SessionStatus;
  /** Every field below defaults to "nothing": each row states the whole answer. */
  changes?: SessionChanges;
  /** What the loop guards remember after it (compared as a subset; unchecked when absent). */
  guards?: Record<string, unknown>;
  record?: string[];
  /** The recorded events in full, where their data matters. */
  events?: Transition['record'];
  enqueue?: string[];
  /** The enqueued jobs in order, matched field by field, where their address or payload matters. */
  jobs?: Partial<NewJob>[];
  messages?: Transition['messages'];
  turn?: Transition['turn'];
  ignored?: string;
}

const ROWS: Row[] = [
  // Making the session.
  {
    name: 'a trigger makes a queued session with an unaddressed spawn job',
    from: null,
    event: created,
    to: 'queued',
    events: [{ kind: 'created', data: { triggeredBy: 'alice', agent: 'claude-code' } }],
    enqueue: [spawn, statusComment],
    jobs: [{ runnerId: null, sessionId: ID, payload: { sessionId: ID } }],
  },
  {
    name: 'a runner taking a queued session starts spawning it on its branch',
    from: queued(),
    event: spawnStarted(),
    to: 'spawning',
    changes: { runnerId: RUNNER, branch: 'agent/1-x', baseBranch: 'main' },
    record: ['spawning'],
    enqueue: [statusComment],
  },
  {
    name: 'a spawn job run again (after a restart) spawns again, on the runner running it',
    from: queued({ status: 'spawning', runnerId: RUNNER }),
    event: spawnStarted(OTHER_RUNNER),
    to: 'spawning',
    changes: { runnerId: OTHER_RUNNER, branch: 'agent/1-x', baseBranch: 'main' },
    record: ['spawning'],
    enqueue: [statusComment],
  },
  {
    name: 'a ready workspace keeps its path, its head and the base it was made from',
    from: queued({ status: 'spawning', runnerId: RUNNER, context: { startedThrough: 'api' } }),
    event: { type: 'workspace-ready', path: '/w/s', headSha: 'b0', baseSha: 'b0' },
    to: 'spawning',
    changes: {
      workspacePath: '/w/s',
      headSha: 'b0',
      context: { startedThrough: 'api', baseSha: 'b0' },
    },
    events: [{ kind: 'workspace-ready', data: { path: '/w/s', baseSha: 'b0' } }],
  },
  {
    name: 'an agent that cannot start needs a human, who is told why',
    from: session({ status: 'spawning' }),
    event: { type: 'spawn-failed', reason: 'setup command failed: npm ci' },
    to: 'needs_human',
    changes: { statusReason: 'setup command failed: npm ci' },
    events: [{ kind: 'needs-human', data: { reason: 'setup command failed: npm ci' } }],
    enqueue: [statusComment],
  },

  // Choosing a turn.
  {
    name: 'the first turn starts once the workspace is ready',
    from: session({ status: 'spawning', turns: turns({ last: null }) }),
    event: chosen(true),
    to: 'working',
    enqueue: [statusComment],
    turn: planTurn(1),
  },
  {
    name: 'a spawn job run again after the first turn ran starts no turn',
    from: session({ turns: turns() }),
    event: chosen(true),
    to: 'waiting',
    ignored: 'the first turn already ran',
  },
  {
    name: 'messages queued while the session waits become the next turn, which delivers them',
    from: session({
      statusReason: 'waiting for review',
      turns: turns({ last: 2, pending: pending(11, 12) }),
    }),
    event: chosen(false),
    to: 'working',
    changes: { statusReason: null },
    events: [{ kind: 'messages-delivered', data: { turn: 3, count: 2 } }],
    enqueue: [statusComment],
    turn: planTurn(3, [11, 12]),
  },
  {
    name: "a human's message to a session that needs one runs a turn",
    from: session({
      status: 'needs_human',
      statusReason: 'turn 1 exited with status 1',
      turns: turns({ pending: pending(4) }),
    }),
    event: chosen(false),
    to: 'working',
    changes: { statusReason: null },
    record: ['messages-delivered'],
    enqueue: [statusComment],
    turn: planTurn(2, [4]),
  },
  {
    name: 'a turn job with nothing queued starts no turn',
    from: session({ turns: turns() }),
    event: chosen(false),
    to: 'waiting',
    ignored: 'no messages are queued',
  },
  {
    name: 'a turn job for a queued session leaves the first turn to the spawn job',
    from: queued({ turns: turns({ last: null, pending: pending(1) }) }),
    event: chosen(false),
    to: 'queued',
    ignored: 'the spawn job runs the first turn',
  },
  {
    name: 'a turn job for a spawning session leaves the first turn to the spawn job',
    from: session({ status: 'spawning', turns: turns({ last: null, pending: pending(1) }) }),
    event: chosen(false),
    to: 'spawning',
    ignored: 'the spawn job runs the first turn',
  },
  {
    name: 'a turn job while a turn runs starts no second turn',
    from: session({ status: 'working', turns: turns({ pending: pending(3) }) }),
    event: chosen(false),
    to: 'working',
    ignored: 'the session is working',
  },
  {
    name: 'an unfinished turn found after a restart is resumed',
    from: session({ status: 'working', turns: turns({ unfinished: unfinishedTurn }) }),
    event: chosen(false),
    to: 'working',
    turn: { resume: unfinishedTurn },
  },
  {
    name: 'a workspace made again under an unfinished turn (a takeover) runs it: working',
    from: session({ status: 'spawning', turns: turns({ unfinished: unfinishedTurn }) }),
    event: chosen(true),
    to: 'working',
    turn: { resume: unfinishedTurn },
  },
  {
    name: 'a spawn job run again while its first turn runs resumes that turn',
    from: session({
      status: 'working',
      turns: turns({ unfinished: unfinishedTurn, pending: pending(5) }),
    }),
    event: chosen(true),
    to: 'working',
    turn: { resume: unfinishedTurn },
  },

  // A turn's end.
  {
    name: 'a turn that went well: the session waits, its costs added up, its head and PR kept',
    from: session({
      status: 'working',
      prNumber: null,
      statusReason: 'working on it',
      costUsd: 1.25,
      inputTokens: 100,
      outputTokens: 10,
      turns: turns(),
    }),
    event: finished({ kind: 'ok' }),
    to: 'waiting',
    changes: {
      costUsd: 1.75,
      inputTokens: 150,
      outputTokens: 15,
      headSha: 'h2',
      prNumber: 8,
      statusReason: null,
    },
    enqueue: [statusComment],
  },
  {
    name: 'messages queued while a turn ran: its runner is asked for another turn',
    from: session({ status: 'working', turns: turns({ pending: pending(9) }) }),
    event: finished({ kind: 'ok' }),
    to: 'waiting',
    changes: { ...spent, statusReason: null },
    enqueue: [turn, statusComment],
    jobs: [{ runnerId: RUNNER, sessionId: ID }],
  },
  {
    name: 'a failed agent: the session needs a human and the reaction rules hear of it',
    from: session({ status: 'working', turns: turns() }),
    event: finished({ kind: 'agent-failed', reason: 'turn 2 exited with status 1' }),
    to: 'needs_human',
    changes: { ...spent, statusReason: 'turn 2 exited with status 1' },
    events: [{ kind: 'agent-failed', data: { reason: 'turn 2 exited with status 1' } }],
    enqueue: [reaction, statusComment],
    jobs: [
      {
        payload: { sessionId: ID, key: 'agent-failed', detail: 'turn 2 exited with status 1' },
      },
    ],
  },
  {
    name: 'a stuck agent: the session needs a human and the reaction rules hear of it',
    from: session({ status: 'working', turns: turns() }),
    event: finished({ kind: 'agent-stuck', reason: 'turn 2 ran past 60 minutes' }),
    to: 'needs_human',
    changes: { ...spent, statusReason: 'turn 2 ran past 60 minutes' },
    record: ['agent-stuck'],
    enqueue: [reaction, statusComment],
    jobs: [
      { payload: { sessionId: ID, key: 'agent-stuck', detail: 'turn 2 ran past 60 minutes' } },
    ],
  },
  {
    name: 'a push that failed: the session needs a human, with no reaction',
    from: session({ status: 'working', turns: turns() }),
    event: finished({ kind: 'needs-human', reason: 'pushing turn 2 failed: rejected' }),
    to: 'needs_human',
    changes: { ...spent, statusReason: 'pushing turn 2 failed: rejected' },
    record: ['needs-human'],
    enqueue: [statusComment],
  },
  {
    name: 'a cost limit reached: the session needs a human, with no reaction',
    from: session({ status: 'working', turns: turns() }),
    event: finished({ kind: 'needs-human', reason: 'cost limit of $5.00 reached' }),
    to: 'needs_human',
    changes: { ...spent, statusReason: 'cost limit of $5.00 reached' },
    record: ['needs-human'],
    enqueue: [statusComment],
  },
  {
    name: 'a session escalated while its turn ran stays with the human, and keeps the reason',
    from: session({
      status: 'needs_human',
      statusReason: 'ci-failed: 4 attempts, more than the 3 allowed',
      turns: turns(),
    }),
    event: finished({ kind: 'ok' }),
    to: 'needs_human',
    changes: spent,
    enqueue: [statusComment],
  },

  // Stopping and ending.
  {
    name: 'a stop before any runner took the session ends it at once',
    from: queued(),
    event: stopRequested,
    to: 'stopped',
    changes: { statusReason: 'stopped by @alice', endedAt: NOW },
    events: [
      {
        kind: 'stop-requested',
        data: { status: 'stopped', reason: 'stopped by @alice', cleanup: true, by: 'alice' },
      },
    ],
    enqueue: [statusComment],
  },
  {
    name: "a stop with a runner asks that runner to stop the turn; the session's end comes later",
    from: session({ status: 'working' }),
    event: stopRequested,
    to: 'working',
    record: ['stop-requested'],
    enqueue: [stop],
    jobs: [
      {
        runnerId: RUNNER,
        sessionId: ID,
        payload: { sessionId: ID, status: 'stopped', reason: 'stopped by @alice', cleanup: true },
      },
    ],
  },
  {
    name: 'the runner having stopped it, the session ends with the reason',
    from: session({ status: 'working' }),
    event: { type: 'ended', status: 'stopped', reason: 'stopped by @alice', cleanedUp: true },
    to: 'stopped',
    changes: { statusReason: 'stopped by @alice', endedAt: NOW },
    events: [
      { kind: 'ended', data: { status: 'stopped', reason: 'stopped by @alice', cleanedUp: true } },
    ],
    enqueue: [statusComment],
  },
  {
    name: 'a merged session ends as merged',
    from: session(),
    event: { type: 'ended', status: 'merged', reason: 'merged', cleanedUp: true },
    to: 'merged',
    changes: { statusReason: 'merged', endedAt: NOW },
    record: ['ended'],
    enqueue: [statusComment],
  },

  // Reactions.
  {
    name: 'a CI failure within the retries is sent to the agent and counted',
    from: session({ reactionAttempts: { 'ci-failed': 1 } }),
    event: ciFailed,
    to: 'waiting',
    changes: { reactionAttempts: { 'ci-failed': 2 } },
    events: [
      { kind: 'reaction', data: { key: 'ci-failed', action: 'send-to-agent', attempts: 2 } },
      { kind: 'message-queued', data: { source: 'ci-failed' } },
    ],
    enqueue: [turn, statusComment],
    jobs: [{ runnerId: RUNNER }],
    messages: [{ body: 'test/x.test.ts failed', source: 'ci-failed' }],
  },
  {
    name: "a CI failure sent to the agent starts with the repository's message for the rule",
    from: session(),
    event: ciFailed,
    config: withReactions({ 'ci-failed': { message: 'Fix CI before anything else.' } }),
    to: 'waiting',
    changes: { reactionAttempts: { 'ci-failed': 1 } },
    record: ['reaction', 'message-queued'],
    enqueue: [turn, statusComment],
    messages: [
      { body: 'Fix CI before anything else.\n\ntest/x.test.ts failed', source: 'ci-failed' },
    ],
  },
  {
    name: 'a CI failure past the retries escalates to a human, who is notified',
    from: session({ reactionAttempts: { 'ci-failed': 3 } }),
    event: ciFailed,
    to: 'needs_human',
    changes: {
      reactionAttempts: { 'ci-failed': 4 },
      statusReason: 'ci-failed: 4 attempts, more than the 3 allowed',
    },
    record: ['reaction'],
    enqueue: [notify, statusComment],
    jobs: [
      {
        payload: {
          sessionId: ID,
          reason: 'ci-failed',
          text: 'ci-failed: 4 attempts, more than the 3 allowed. A human needs to look at this.',
        },
      },
    ],
  },
  {
    name: "a repository's retries count: one allowed, the second failure escalates",
    from: session({ reactionAttempts: { 'ci-failed': 1 } }),
    event: ciFailed,
    config: withReactions({ 'ci-failed': { retries: 1 } }),
    to: 'needs_human',
    changes: {
      reactionAttempts: { 'ci-failed': 2 },
      statusReason: 'ci-failed: 2 attempts, more than the 1 allowed',
    },
    record: ['reaction'],
    enqueue: [notify, statusComment],
  },
  {
    name: 'a session waiting for a human gets no automatic message, and the skip is recorded',
    from: session({ status: 'needs_human', reactionAttempts: { 'ci-failed': 4 } }),
    event: ciFailed,
    to: 'needs_human',
    events: [{ kind: 'ignored', data: { key: 'ci-failed', reason: 'awaiting-human' } }],
    ignored: 'awaiting-human',
  },
  {
    name: 'a CI result for an older head is recorded and ignored',
    from: session({ headSha: 'h2' }),
    event: ciFailed,
    to: 'waiting',
    events: [{ kind: 'ignored', data: { key: 'ci-failed', reason: 'stale-head' } }],
    ignored: 'stale-head',
  },
  {
    name: 'a rule the repository turned off is recorded and ignored',
    from: session(),
    event: ciFailed,
    config: withReactions({ 'ci-failed': { action: 'ignore' } }),
    to: 'waiting',
    record: ['ignored'],
    ignored: 'configured-ignore',
  },
  {
    name: 'an approved, green pull request: people are told it is ready to merge',
    from: session(),
    event: { type: 'reaction', key: 'approved-and-green', headSha: 'h1' },
    to: 'waiting',
    changes: { reactionAttempts: {} },
    events: [
      { kind: 'reaction', data: { key: 'approved-and-green', action: 'notify', attempts: 0 } },
    ],
    enqueue: [notify, statusComment],
    jobs: [
      {
        payload: {
          sessionId: ID,
          reason: 'approved-and-green',
          text: 'Pull request #7 is approved and every check is green: ready to merge.',
        },
      },
    ],
  },
  {
    name: "a failed agent's reaction notifies people with the reason",
    from: session({ status: 'needs_human', statusReason: 'turn 2 exited with status 1' }),
    event: { type: 'reaction', key: 'agent-failed' },
    to: 'needs_human',
    changes: { reactionAttempts: {} },
    record: ['reaction'],
    enqueue: [notify, statusComment],
    jobs: [
      {
        payload: {
          sessionId: ID,
          reason: 'agent-failed',
          text: 'The agent failed: turn 2 exited with status 1.',
        },
      },
    ],
  },
  {
    name: 'a merged pull request: the runner is asked to clean up and end the session as merged',
    from: session(),
    event: { type: 'reaction', key: 'merged' },
    to: 'waiting',
    changes: { reactionAttempts: {} },
    record: ['reaction', 'stop-requested'],
    enqueue: [stop, statusComment],
    jobs: [
      {
        runnerId: RUNNER,
        payload: { sessionId: ID, status: 'merged', reason: 'merged', cleanup: true },
      },
    ],
  },
  {
    name: 'a closed issue: the runner is asked to end the session as closed',
    from: session({ status: 'working' }),
    event: { type: 'reaction', key: 'issue-closed' },
    to: 'working',
    changes: { reactionAttempts: {} },
    record: ['reaction', 'stop-requested'],
    enqueue: [stop, statusComment],
    jobs: [
      {
        runnerId: RUNNER,
        payload: { sessionId: ID, status: 'closed', reason: 'issue-closed', cleanup: true },
      },
    ],
  },
  {
    name: 'a closed pull request on a session no runner has closes it at once',
    from: queued({ prNumber: 7 }),
    event: { type: 'reaction', key: 'pr-closed' },
    to: 'closed',
    changes: { reactionAttempts: {}, statusReason: 'pr-closed', endedAt: NOW },
    record: ['reaction', 'stop-requested'],
    enqueue: [statusComment],
  },
  {
    name: 'a reaction for an ended session is recorded as ignored',
    from: session({ status: 'merged', endedAt: NOW }),
    event: ciFailed,
    to: 'merged',
    events: [{ kind: 'ignored', data: { key: 'ci-failed', reason: 'terminal-session' } }],
    ignored: 'terminal-session',
  },

  // Messages and commands.
  {
    name: 'a message for a session with a runner is queued and its runner asked for a turn',
    from: session(),
    event: message,
    to: 'waiting',
    events: [{ kind: 'message-queued', data: { source: 'wes' } }],
    enqueue: [turn, statusComment],
    jobs: [{ runnerId: RUNNER, sessionId: ID }],
    messages: [{ body: 'also the docs', source: 'wes' }],
  },
  {
    name: 'a message before any runner is queued for the spawn job to deliver',
    from: queued(),
    event: message,
    to: 'queued',
    record: ['message-queued'],
    enqueue: [statusComment],
    messages: [{ body: 'also the docs', source: 'wes' }],
  },
  {
    name: "a human's command starts the reaction counts over",
    from: session({ reactionAttempts: { 'ci-failed': 2, 'changes-requested': 1 } }),
    event: humanCommand,
    to: 'waiting',
    changes: { reactionAttempts: {} },
    enqueue: [statusComment],
  },
  {
    name: "a human's command with no counts to reset changes nothing",
    from: session(),
    event: humanCommand,
    to: 'waiting',
    ignored: 'no attempts to reset',
  },

  // Retries.
  {
    name: 'a retry of a session that never got a workspace spawns it again on any runner',
    from: session({
      status: 'needs_human',
      statusReason: 'unknown agent "gpt"',
      workspacePath: null,
      turns: turns({ last: null }),
    }),
    event: retry,
    to: 'queued',
    changes: { statusReason: null, runnerId: null, workspacePath: null },
    events: [{ kind: 'retry', data: { by: 'alice', respawn: true } }],
    enqueue: [spawn, statusComment],
    jobs: [{ runnerId: null }],
  },
  {
    name: 'a retry after a failed setup spawns again on the runner holding the worktree',
    from: session({
      status: 'needs_human',
      statusReason: 'setup command failed: npm ci',
      turns: turns({ last: null }),
    }),
    event: retry,
    to: 'queued',
    changes: { statusReason: null, runnerId: RUNNER, workspacePath: null },
    record: ['retry'],
    enqueue: [spawn, statusComment],
    jobs: [{ runnerId: RUNNER }],
  },
  {
    name: 'a retry after a failed turn asks the agent to carry on',
    from: session({
      status: 'needs_human',
      statusReason: 'turn 1 exited with status 1',
      turns: turns(),
    }),
    event: retry,
    to: 'needs_human',
    events: [
      { kind: 'retry', data: { by: 'alice', respawn: false } },
      { kind: 'message-queued', data: { source: 'alice' } },
    ],
    enqueue: [turn, statusComment],
    jobs: [{ runnerId: RUNNER }],
    messages: [{ body: RETRY_MESSAGE, source: 'alice' }],
  },

  // Pull requests.
  {
    name: 'a pull request push keeps the number the session has and moves its head',
    from: session(),
    event: { type: 'pr-linked', kind: 'pr-updated', prNumber: 9, headSha: 'h3' },
    to: 'waiting',
    changes: { prNumber: 7, headSha: 'h3' },
    events: [{ kind: 'pr-updated', data: { prNumber: 9, headSha: 'h3' } }],
  },
  {
    name: 'a pull request opened for a session without one is linked to it',
    from: session({ status: 'working', prNumber: null }),
    event: { type: 'pr-linked', kind: 'pr-opened', prNumber: 8, headSha: 'h2' },
    to: 'working',
    changes: { prNumber: 8, headSha: 'h2' },
    record: ['pr-opened'],
    enqueue: [statusComment],
  },

  // Takeover.
  {
    name: "a dead runner's session queues again, for the runner taking over to make its workspace",
    from: session({ status: 'working' }),
    event: { type: 'takeover', from: RUNNER, runnerId: OTHER_RUNNER },
    to: 'queued',
    changes: { runnerId: OTHER_RUNNER, workspacePath: null },
    events: [{ kind: 'taken-over', data: { from: RUNNER, to: OTHER_RUNNER } }],
    enqueue: [spawn, statusComment],
    jobs: [{ runnerId: OTHER_RUNNER }],
  },
  {
    name: "a dead runner's session taken over by any runner gets an unaddressed spawn job",
    from: session({ status: 'needs_human' }),
    event: { type: 'takeover', from: RUNNER, runnerId: null },
    to: 'queued',
    changes: { runnerId: null, workspacePath: null },
    record: ['taken-over'],
    enqueue: [spawn, statusComment],
    jobs: [{ runnerId: null }],
  },
  {
    name: 'a takeover from a runner the session is not on changes nothing',
    from: session(),
    event: { type: 'takeover', from: 'r-host-9', runnerId: OTHER_RUNNER },
    to: 'waiting',
    ignored: 'the session is not on r-host-9',
  },
  {
    // Exposes a gap: takeover is refused from queued, but retry and takeover itself leave a queued
    // session addressed to a runner, whose death would strand it.
    name: 'a queued session whose addressed runner died is taken over too',
    from: queued({ runnerId: RUNNER, branch: 'agent/1-x', baseBranch: 'main', headSha: 'h1' }),
    event: { type: 'takeover', from: RUNNER, runnerId: OTHER_RUNNER },
    to: 'queued',
    changes: { runnerId: OTHER_RUNNER, workspacePath: null },
    record: ['taken-over'],
    enqueue: [spawn, statusComment],
    jobs: [{ runnerId: OTHER_RUNNER }],
  },
  {
    // Exposes a gap: after a takeover the spawn job remakes the workspace and asks for the first
    // turn; one already ran, so the session is left spawning, where no event moves it on.
    name: 'a taken-over session whose turns already ran waits again once its workspace is remade',
    from: session({
      status: 'spawning',
      runnerId: OTHER_RUNNER,
      workspacePath: '/w/s-again',
      turns: turns({ last: 2 }),
    }),
    event: chosen(true),
    to: 'waiting',
    enqueue: [statusComment],
  },

  // Late events on an ended session.
  ...(
    [
      stopRequested,
      { type: 'ended', status: 'closed', reason: 'pr-closed', cleanedUp: true },
      humanCommand,
      { type: 'pr-linked', kind: 'pr-updated', prNumber: 7, headSha: 'h9' },
    ] satisfies LifecycleEvent[]
  ).map(
    (event): Row => ({
      name: `a late ${event.type} on a stopped session changes nothing`,
      from: session({ status: 'stopped', statusReason: 'stopped by @alice', endedAt: NOW }),
      event,
      to: 'stopped',
      ignored: 'the session has ended',
    }),
  ),
];

describe('transition: the session state machine', () => {
  it.each(named(ROWS))('%s', (_name, row) => {
    const t = transition(row.from, row.event, sessionRules(row.config ?? DEFAULT_REPO_CONFIG), NOW);
    expect(t.status).toBe(row.to);
    const { guards, ...changes } = t.changes;
    expect(changes).toEqual(row.changes ?? {});
    if (row.guards) expect(guards).toMatchObject(row.guards);
    expect(t.record.map((e) => e.kind)).toEqual(row.record ?? row.events?.map((e) => e.kind) ?? []);
    if (row.events) expect(t.record).toEqual(row.events);
    expect(jobKinds(t)).toEqual(row.enqueue ?? []);
    if (row.jobs) expect(t.enqueue.slice(0, row.jobs.length)).toMatchObject(row.jobs);
    expect(t.messages).toEqual(row.messages ?? []);
    expect(t.turn).toEqual(row.turn);
    expect(t.ignored).toBe(row.ignored);
  });

  const REFUSED: { name: string; from: SessionSnapshot | null; event: LifecycleEvent }[] = [
    {
      name: 'a stopped session never works again',
      from: session({ status: 'stopped', turns: turns({ pending: pending(1) }) }),
      event: chosen(false),
    },
    {
      name: 'a stopped session takes no message',
      from: session({ status: 'stopped' }),
      event: message,
    },
    {
      name: 'a merged session is never spawned again',
      from: session({ status: 'merged' }),
      event: spawnStarted(),
    },
    {
      name: 'a waiting session is not spawned again',
      from: session(),
      event: spawnStarted(),
    },
    {
      name: 'a waiting session cannot be retried',
      from: session({ turns: turns() }),
      event: retry,
    },
    {
      name: 'a closed session cannot be retried',
      from: session({ status: 'closed', turns: turns() }),
      event: retry,
    },
    {
      name: 'a queued session has no turn to finish',
      from: queued({ turns: turns({ last: null }) }),
      event: finished({ kind: 'ok' }),
    },
    {
      name: 'a waiting session has no turn to finish',
      from: session({ turns: turns() }),
      event: finished({ kind: 'ok' }),
    },
    {
      name: 'a failure to spawn cannot happen to a waiting session',
      from: session(),
      event: { type: 'spawn-failed', reason: 'setup command failed: npm ci' },
    },
    {
      name: 'a working session has no workspace to be made',
      from: session({ status: 'working' }),
      event: { type: 'workspace-ready', path: '/w/s', headSha: 'h1', baseSha: 'h0' },
    },
    {
      name: 'a session cannot be created twice',
      from: queued(),
      event: created,
    },
    {
      name: 'an event for no session',
      from: null,
      event: spawnStarted(),
    },
    {
      name: 'a reaction for no session',
      from: null,
      event: ciFailed,
    },
    {
      name: 'a first turn outside spawning',
      from: session({ turns: turns({ last: null }) }),
      event: chosen(true),
    },
    {
      name: 'a first turn before the workspace is ready',
      from: session({ status: 'spawning', workspacePath: null, turns: turns({ last: null }) }),
      event: chosen(true),
    },
  ];

  it.each(named(REFUSED))(
    'refuses with an IllegalTransitionError: %s',
    (_name, { from, event }) => {
      const refused = thrownBy(() =>
        transition(from, event, sessionRules(DEFAULT_REPO_CONFIG), NOW),
      );
      expect(refused).toBeInstanceOf(IllegalTransitionError);
      expect(refused).toMatchObject({
        from: from?.status ?? null,
        event: event.type,
        sessionId: from?.id ?? null,
        ended: from !== null && isTerminal(from.status),
      });
    },
  );

  const PURE: { name: string; from: SessionSnapshot; event: LifecycleEvent }[] = [
    {
      name: 'a counted reaction',
      from: session({ reactionAttempts: { 'ci-failed': 1 } }),
      event: ciFailed,
    },
    {
      name: 'a finished turn',
      from: session({ status: 'working', turns: turns({ pending: pending(9) }) }),
      event: finished({ kind: 'ok' }),
    },
    {
      name: 'a chosen turn',
      from: session({ turns: turns({ pending: pending(1, 2) }) }),
      event: chosen(false),
    },
    {
      name: 'a human command',
      from: session({ reactionAttempts: { 'ci-failed': 3 } }),
      event: humanCommand,
    },
    {
      name: 'a workspace made',
      from: session({ status: 'spawning', context: { baseSha: 'old' } }),
      event: { type: 'workspace-ready', path: '/w/s', headSha: 'h1', baseSha: 'h0' },
    },
  ];

  it.each(named(PURE))(
    'is pure on %s: the same answer twice, the session untouched',
    (_name, { from, event }) => {
      const before = structuredClone(from);
      const first = transition(from, event, sessionRules(DEFAULT_REPO_CONFIG), NOW);
      const second = transition(from, event, sessionRules(DEFAULT_REPO_CONFIG), NOW);
      expect(second).toEqual(first);
      expect(from).toEqual(before);
      expect(NOW.toISOString()).toBe('2026-12-01T12:00:00.000Z');
    },
  );
});
