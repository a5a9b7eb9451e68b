/** The state machine's answers for a session's making, its messages, retries and takeover. */

import { automatedWithin, type GuardState, guardsOf, totalSpend } from './guards.js';
import { sessionJobs } from './job-kinds.js';
import type { EventOf, SessionSnapshot, Transition } from './lifecycle-event.js';
import { contextOf } from './session-context.js';
import type { SessionRules } from './session-rules.js';
import { haltFor, moveTo, unchanged } from './transition-parts.js';

/** The text queued when a human retries a session whose last turn did not finish. */
export const RETRY_MESSAGE =
  'The previous turn did not finish. Please look at where you left off and carry on with the task.';

export function created(event: EventOf<'created'>): Transition {
  const id = event.sessionId;
  return moveTo('queued', {
    record: [{ kind: 'created', data: { triggeredBy: event.triggeredBy, agent: event.agent } }],
    enqueue: [sessionJobs.spawn(id), sessionJobs.statusComment(id)],
  });
}

export function spawnStarted(s: SessionSnapshot, event: EventOf<'spawn-started'>): Transition {
  const { runnerId, branch, baseBranch } = event;
  return moveTo('spawning', {
    changes: { runnerId, branch, baseBranch },
    record: [{ kind: 'spawning', data: { runnerId, branch, baseBranch } }],
    enqueue: [sessionJobs.statusComment(s.id)],
  });
}

export function workspaceReady(s: SessionSnapshot, event: EventOf<'workspace-ready'>): Transition {
  return moveTo('spawning', {
    changes: {
      workspacePath: event.path,
      headSha: event.headSha,
      context: { ...contextOf(s), baseSha: event.baseSha },
    },
    record: [{ kind: 'workspace-ready', data: { path: event.path, baseSha: event.baseSha } }],
  });
}

export function spawnFailed(s: SessionSnapshot, event: EventOf<'spawn-failed'>): Transition {
  return moveTo('needs_human', {
    changes: { statusReason: event.reason },
    record: [{ kind: 'needs-human', data: { reason: event.reason } }],
    enqueue: [sessionJobs.statusComment(s.id)],
  });
}

/** A message for the agent: delivered as the next turn by the session's runner, if it has one. */
export function queuedMessage(
  s: SessionSnapshot,
  message: { body: string; source: string },
  extra: Transition['record'] = [],
): Transition {
  return moveTo(s.status, {
    messages: [{ body: message.body, source: message.source }],
    record: [...extra, { kind: 'message-queued', data: { source: message.source } }],
    // Without a runner, the spawn job delivers whatever is queued by then.
    enqueue: [
      ...(s.runnerId ? [sessionJobs.turn(s.id, s.runnerId)] : []),
      sessionJobs.statusComment(s.id),
    ],
  });
}

/** A human's command: the reaction counts and the loop guards' counts start over. */
export function resetAttempts(s: SessionSnapshot): Transition {
  const guards = guardsOf(s);
  const counting =
    guards.noChangeTurns > 0 || guards.automated.length > 0 || guards.ci !== undefined;
  if (Object.keys(s.reactionAttempts).length === 0 && !counting)
    return unchanged(s, 'no attempts to reset');
  return moveTo(s.status, {
    changes: { reactionAttempts: {}, guards: countsStartOver(guards) },
    enqueue: [sessionJobs.statusComment(s.id)],
  });
}

const countsStartOver = (guards: GuardState): GuardState => {
  const { ci: _ci, ...rest } = guards;
  return { ...rest, noChangeTurns: 0, automated: [] };
};

/**
 * A message for the agent from a bot (an allow-listed one's `/agent` comment): counted with the
 * other automated messages, past the guard's number in an hour the session is paused.
 */
export function automatedMessage(
  s: SessionSnapshot,
  event: EventOf<'message'>,
  rules: SessionRules,
  now: Date,
): Transition {
  const guards = guardsOf(s);
  const automated = automatedWithin(guards, now);
  const limit = rules.guards.automatedPerHour;
  if (automated.length > limit) {
    const reason = `more than ${limit} automated messages reached the session within an hour`;
    return haltFor(
      s,
      { kind: 'guard', data: { guard: 'automated', source: event.source }, reason },
      { changes: { guards: { ...guards, automated } } },
    );
  }
  const queued = queuedMessage(s, event);
  return { ...queued, changes: { guards: { ...guards, automated } } };
}

/**
 * A human retries a session that needs one. One that never ran a turn (no workspace, the agent
 * missing, setup failed) is spawned again, on the runner that holds its worktree if it has one;
 * one whose turn failed is asked to carry on.
 */
export function retry(s: SessionSnapshot, event: EventOf<'retry'>): Transition {
  const neverRan = !s.workspacePath || s.turns?.last === null;
  // The session's budget starts over from what it has spent, and the guards' counts too.
  const guards = { ...countsStartOver(guardsOf(s)), budgetFrom: totalSpend(s) };
  if (!neverRan) {
    const carryOn = queuedMessage(s, { body: RETRY_MESSAGE, source: event.by }, [
      { kind: 'retry', data: { by: event.by, respawn: false } },
    ]);
    return { ...carryOn, changes: { guards } };
  }
  const runnerId = s.workspacePath ? s.runnerId : null;
  return moveTo('queued', {
    changes: { statusReason: null, runnerId, workspacePath: null, guards },
    record: [{ kind: 'retry', data: { by: event.by, respawn: true } }],
    enqueue: [sessionJobs.spawn(s.id, runnerId), sessionJobs.statusComment(s.id)],
  });
}

export function prLinked(s: SessionSnapshot, event: EventOf<'pr-linked'>): Transition {
  const linking = !s.prNumber;
  return moveTo(s.status, {
    changes: { prNumber: s.prNumber ?? event.prNumber, headSha: event.headSha },
    record: [{ kind: event.kind, data: { prNumber: event.prNumber, headSha: event.headSha } }],
    enqueue: linking ? [sessionJobs.statusComment(s.id)] : [],
  });
}

/**
 * The session's runner is gone: the session queues again with no workspace, and the spawn job,
 * addressed to the runner taking over (or to any), makes it again from the pushed branch.
 */
export function takeover(s: SessionSnapshot, event: EventOf<'takeover'>): Transition {
  if (s.runnerId !== event.from) return unchanged(s, `the session is not on ${event.from}`);
  return moveTo('queued', {
    changes: { runnerId: event.runnerId, workspacePath: null },
    record: [{ kind: 'taken-over', data: { from: event.from, to: event.runnerId } }],
    enqueue: [sessionJobs.spawn(s.id, event.runnerId), sessionJobs.statusComment(s.id)],
  });
}
