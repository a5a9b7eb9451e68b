import type { SessionSnapshot, Transition } from './lifecycle-event.js';
import type { SessionStatus } from './session-status.js';

/** Nothing changes; `ignored` says why. */
export function unchanged(session: Pick<SessionSnapshot, 'status'>, ignored?: string): Transition {
  return { status: session.status, changes: {}, record: [], enqueue: [], messages: [], ignored };
}

/** A transition to `status` with the parts given; the rest empty. */
export function moveTo(
  status: SessionStatus,
  parts: Partial<Omit<Transition, 'status'>> = {},
): Transition {
  return { status, changes: {}, record: [], enqueue: [], messages: [], ...parts };
}
