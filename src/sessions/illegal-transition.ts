import type { LifecycleEventType } from './lifecycle-event.js';
import { isTerminal, type SessionStatus } from './session-status.js';

/** The state machine refused an event: it cannot happen to a session in that status. */
export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
  constructor(
    readonly from: SessionStatus | null,
    readonly event: LifecycleEventType,
    readonly sessionId: string | null,
  ) {
    super(
      from === null
        ? `no session to apply ${event} to`
        : `session ${sessionId} is ${from}: ${event} cannot happen now`,
    );
  }

  /** The session had already ended: the event came too late (a race, not a fault). */
  get ended(): boolean {
    return this.from !== null && isTerminal(this.from);
  }
}
