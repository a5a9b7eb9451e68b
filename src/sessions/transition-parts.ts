import { sessionJobs } from './job-kinds.js';
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

/**
 * A budget or a loop guard stops the session for a human: the reason on the status comment and
 * the timeline, and the people told.
 */
export function haltFor(
  s: Pick<SessionSnapshot, 'id'>,
  trip: { kind: 'budget' | 'guard'; data: Record<string, unknown>; reason: string },
  parts: Partial<Omit<Transition, 'status'>> = {},
): Transition {
  return moveTo('needs_human', {
    ...parts,
    changes: { ...parts.changes, statusReason: trip.reason },
    record: [
      ...(parts.record ?? []),
      { kind: trip.kind, data: { ...trip.data, reason: trip.reason } },
    ],
    enqueue: [
      ...(parts.enqueue ?? []),
      sessionJobs.notify({
        sessionId: s.id,
        reason: trip.kind,
        text: `The session is paused: ${trip.reason}. A human needs to look at it (\`/agent retry\` carries on).`,
      }),
      sessionJobs.statusComment(s.id),
    ],
  });
}
