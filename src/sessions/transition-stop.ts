/** The state machine's answers for stopping a session and for its end. */
import { sessionJobs } from './job-kinds.js';
import type { EventOf, SessionSnapshot, Transition } from './lifecycle-event.js';
import { moveTo } from './transition-parts.js';

/**
 * A stop: the session's runner stops any running turn and ends it; a session no runner has
 * taken has nothing running and nothing on disk, so it ends at once.
 */
export function stopRequested(
  s: SessionSnapshot,
  event: EventOf<'stop-requested'>,
  now: Date,
): Transition {
  const { status, reason, cleanup, by } = event;
  const record = [{ kind: 'stop-requested', data: { status, reason, cleanup, by } }];
  if (!s.runnerId) {
    return moveTo(status, {
      changes: { statusReason: reason, endedAt: now },
      record,
      enqueue: [sessionJobs.statusComment(s.id)],
    });
  }
  return moveTo(s.status, {
    record,
    enqueue: [sessionJobs.stop({ sessionId: s.id, status, reason, cleanup }, s.runnerId)],
  });
}

export function ended(s: SessionSnapshot, event: EventOf<'ended'>, now: Date): Transition {
  const { status, reason, cleanedUp } = event;
  return moveTo(status, {
    changes: { statusReason: reason, endedAt: now },
    record: [{ kind: 'ended', data: { status, reason, cleanedUp } }],
    enqueue: [sessionJobs.statusComment(s.id)],
  });
}
