/**
 * A session left `working` with no turn running anywhere (its turn job died, or its runner lost
 * the turn): when that is so, as a pure rule, and the state machine's answer.
 */
import { guardsOf } from './guards.js';
import { sessionJobs } from './job-kinds.js';
import type { EventOf, SessionSnapshot, Transition } from './lifecycle-event.js';
import type { SessionStatus } from './session-status.js';
import { haltFor, moveTo } from './transition-parts.js';

export interface WorkingSessionFacts {
  status: SessionStatus;
  /** The latest of the session's last write and its last turn's start or end. */
  lastActivityAt: Date;
  /** Spawn, turn and stop jobs for the session that are queued or running. */
  liveJobs: number;
  /** Whether a turn of the session is being followed on this runner right now. */
  followedHere: boolean;
}

/**
 * Minutes the session has been working with nothing running it, once that is longer than the
 * turn limit (no turn of it can still be legitimately running); null otherwise.
 */
export function reconcileDue(
  facts: WorkingSessionFacts,
  turnMinutes: number,
  now: Date,
): number | null {
  if (facts.status !== 'working' || facts.liveJobs > 0 || facts.followedHere) return null;
  const idle = (now.getTime() - facts.lastActivityAt.getTime()) / 60_000;
  return idle > turnMinutes ? Math.floor(idle) : null;
}

/**
 * An unfinished turn is picked up again once (its agent adopted if alive, else finished as it
 * ended); after that, or with no turn to pick up, a human is asked.
 */
export function reconcile(s: SessionSnapshot, event: EventOf<'reconcile'>): Transition {
  if (!s.turns) throw new Error("reconcile needs the session's turn facts");
  const guards = guardsOf(s);
  const unfinished = s.turns.unfinished;
  if (unfinished && s.runnerId && guards.reconciledTurn !== unfinished.number)
    return moveTo('working', {
      changes: { guards: { ...guards, reconciledTurn: unfinished.number } },
      record: [
        {
          kind: 'reconciled',
          data: { turn: unfinished.number, action: 'resume', idleMinutes: event.idleMinutes },
        },
      ],
      enqueue: [sessionJobs.turn(s.id, s.runnerId)],
    });
  const reason = `the session was working but nothing ran it for ${event.idleMinutes} minutes`;
  return haltFor(s, {
    kind: 'guard',
    data: { guard: 'reconcile', turn: unfinished?.number ?? s.turns.last },
    reason,
  });
}
