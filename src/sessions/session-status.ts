import { SESSION_STATUSES, type SessionStatus, TERMINAL_SESSION_STATUSES } from '../db/schema.js';

export { SESSION_STATUSES, type SessionStatus, TERMINAL_SESSION_STATUSES };

/** A status a session ends in: it never acts again, its events are kept. */
export type TerminalStatus = (typeof TERMINAL_SESSION_STATUSES)[number];

export function isTerminal(status: SessionStatus): status is TerminalStatus {
  return (TERMINAL_SESSION_STATUSES as readonly string[]).includes(status);
}
