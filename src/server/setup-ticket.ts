import { randomBytes } from 'node:crypto';
import { sameToken } from './api-token.js';

/** Why a setup request may not go on (or 'ok'). */
export type SetupCheck = 'ok' | 'missing' | 'wrong' | 'used' | 'busy';

export interface SetupTicket {
  /** The one-time code printed at startup; the setup pages take it. */
  readonly code: string;
  /** The `state` sent to GitHub with the manifest; GitHub hands it back with its code. */
  readonly state: string;
  /** Checks a setup code (from the query or the cookie), in constant time. */
  checkCode(given: string | undefined): SetupCheck;
  /** Checks the `state` GitHub sent back to /probot/setup. */
  checkState(given: string | undefined): SetupCheck;
  /**
   * Admits one write of the credentials ('ok') unless the ticket is used, or being used by
   * another request. After 'ok', `finish()` follows, whether it wrote or failed.
   */
  begin(): 'ok' | 'used' | 'busy';
  /** The write happened: the ticket is used up. Only while begun. */
  spend(): void;
  finish(): void;
  readonly writing: boolean;
}

/**
 * The one registration (or import) this run of setup mode may write to .env. Its code goes to
 * the person who started the server, in the log; anyone else who reaches the port is refused.
 */
export function createSetupTicket(): SetupTicket {
  const code = randomBytes(12).toString('hex');
  const state = randomBytes(24).toString('hex');
  let used = false;
  let writing = false;
  const check = (given: string | undefined, expected: string): SetupCheck => {
    if (!given) return 'missing';
    if (!sameToken(given, expected)) return 'wrong';
    if (used) return 'used';
    return writing ? 'busy' : 'ok';
  };
  return {
    code,
    state,
    checkCode: (given) => check(given, code),
    checkState: (given) => check(given, state),
    begin() {
      if (used) return 'used';
      if (writing) return 'busy';
      writing = true;
      return 'ok';
    },
    spend() {
      if (writing) used = true;
    },
    finish() {
      writing = false;
    },
    get writing() {
      return writing;
    },
  };
}
