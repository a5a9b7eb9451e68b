import { createHash, randomBytes } from 'node:crypto';

/** How long a one-time login link works after it is made. */
export const LOGIN_CODE_TTL_MS = 15 * 60_000;
/** Links not yet used; making more forgets the oldest. */
const MAX_OUTSTANDING = 100;

export interface LoginCodes {
  /** A new code for a login link: it logs in once, within LOGIN_CODE_TTL_MS. */
  issue(): string;
  /** True for a code issued here, unused and unexpired; it is used up either way. */
  redeem(code: string): boolean;
}

/**
 * One-time login codes, so that a link (the one printed at startup) never carries the API
 * token itself. Kept in this process's memory: a code works on the process that made it.
 */
export function createLoginCodes({
  ttlMs = LOGIN_CODE_TTL_MS,
  now = Date.now,
}: {
  ttlMs?: number;
  now?: () => number;
} = {}): LoginCodes {
  // By the code's hash, so looking one up tells nothing about the others.
  const expiries = new Map<string, number>();
  const key = (code: string) => createHash('sha256').update(code).digest('hex');
  return {
    issue() {
      const at = now();
      for (const [k, expires] of expiries) if (expires <= at) expiries.delete(k);
      while (expiries.size >= MAX_OUTSTANDING) expiries.delete(expiries.keys().next().value!);
      const code = randomBytes(24).toString('base64url');
      expiries.set(key(code), at + ttlMs);
      return code;
    },
    redeem(code) {
      const k = key(code);
      const expires = expiries.get(k);
      expiries.delete(k);
      return expires !== undefined && expires > now();
    },
  };
}
