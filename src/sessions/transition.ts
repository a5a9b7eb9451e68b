/**
 * The session state machine: a pure function of the session, an event, its rules (the
 * repository's config under the operator's budgets and guards) and the time, answering the next status with what to write, record and enqueue. The session
 * service applies the answer in one transaction; nothing else writes a session's status.
 */
import { IllegalTransitionError } from './illegal-transition.js';
import type {
  LifecycleEvent,
  LifecycleEventType,
  SessionSnapshot,
  Transition,
} from './lifecycle-event.js';
import type { SessionRules } from './session-rules.js';
import { isTerminal, type SessionStatus } from './session-status.js';
import { unchanged } from './transition-parts.js';
import { reactionTransition } from './transition-reaction.js';
import { reconcile } from './transition-reconcile.js';
import {
  automatedMessage,
  created,
  prLinked,
  queuedMessage,
  resetAttempts,
  retry,
  spawnFailed,
  spawnStarted,
  takeover,
  workspaceReady,
} from './transition-session.js';
import { ended, stopRequested } from './transition-stop.js';
import { turnChosen, turnFinished } from './transition-turn.js';

const LIVE: readonly SessionStatus[] = ['queued', 'spawning', 'working', 'waiting', 'needs_human'];

/**
 * Where each event may happen. An event from any other live status is refused; on an ended
 * session it is refused too, except for those in ENDED_IS_A_NO_OP, which arrive late by nature
 * (a second stop, a webhook racing the end) and are answered with nothing to do.
 */
const ALLOWED_FROM: Record<Exclude<LifecycleEventType, 'created'>, readonly SessionStatus[]> = {
  'spawn-started': ['queued', 'spawning'],
  'workspace-ready': ['spawning'],
  'spawn-failed': ['spawning'],
  'turn-chosen': LIVE,
  'turn-finished': ['working', 'needs_human'],
  'stop-requested': LIVE,
  ended: LIVE,
  reaction: LIVE,
  message: LIVE,
  'human-command': LIVE,
  retry: ['needs_human'],
  'pr-linked': LIVE,
  takeover: LIVE,
  reconcile: ['working'],
};
const ENDED_IS_A_NO_OP = new Set<LifecycleEventType>([
  'stop-requested',
  'ended',
  'human-command',
  'pr-linked',
]);

export function transition(
  session: SessionSnapshot | null,
  event: LifecycleEvent,
  rules: SessionRules,
  now: Date,
): Transition {
  if (event.type === 'created') {
    if (session) throw new IllegalTransitionError(session.status, event.type, session.id);
    return created(event);
  }
  if (!session) throw new IllegalTransitionError(null, event.type, null);
  // The reaction rules decide about ended sessions themselves (and record why they ignore them).
  if (event.type !== 'reaction' && !ALLOWED_FROM[event.type].includes(session.status)) {
    if (isTerminal(session.status) && ENDED_IS_A_NO_OP.has(event.type))
      return unchanged(session, 'the session has ended');
    throw new IllegalTransitionError(session.status, event.type, session.id);
  }
  switch (event.type) {
    case 'spawn-started':
      return spawnStarted(session, event);
    case 'workspace-ready':
      return workspaceReady(session, event);
    case 'spawn-failed':
      return spawnFailed(session, event);
    case 'turn-chosen':
      return turnChosen(session, event, rules, now);
    case 'turn-finished':
      return turnFinished(session, event, rules);
    case 'stop-requested':
      return stopRequested(session, event, now);
    case 'ended':
      return ended(session, event, now);
    case 'reaction':
      return reactionTransition(session, event, rules, now);
    case 'message':
      return event.automated
        ? automatedMessage(session, event, rules, now)
        : queuedMessage(session, event);
    case 'human-command':
      return resetAttempts(session);
    case 'retry':
      return retry(session, event);
    case 'pr-linked':
      return prLinked(session, event);
    case 'takeover':
      return takeover(session, event);
    case 'reconcile':
      return reconcile(session, event);
  }
}
