/** Failed logins one address may make within LOGIN_FAILURE_WINDOW_MS before it waits. */
export const LOGIN_FAILURES_ALLOWED = 10;
export const LOGIN_FAILURE_WINDOW_MS = 10 * 60_000;
/** Addresses remembered at once; beyond it the one that failed longest ago is forgotten. */
const MAX_ADDRESSES = 10_000;

export interface LoginLimiter {
  /** Seconds this address must wait before trying again; 0 when it may try now. */
  retryAfter(address: string): number;
  failed(address: string): void;
  /** A login worked: the address starts afresh. */
  succeeded(address: string): void;
}

/**
 * Limits guessing at the login: an address that failed LOGIN_FAILURES_ALLOWED times within the
 * window waits until the oldest of those failures leaves it. Kept in this process's memory.
 */
export function createLoginLimiter({
  allowed = LOGIN_FAILURES_ALLOWED,
  windowMs = LOGIN_FAILURE_WINDOW_MS,
  now = Date.now,
}: {
  allowed?: number;
  windowMs?: number;
  now?: () => number;
} = {}): LoginLimiter {
  const failures = new Map<string, number[]>();
  const recent = (address: string) => {
    const at = now();
    return (failures.get(address) ?? []).filter((time) => at - time < windowMs);
  };
  return {
    retryAfter(address) {
      const times = recent(address);
      if (times.length < allowed) return 0;
      const freed = times[times.length - allowed]! + windowMs;
      return Math.max(1, Math.ceil((freed - now()) / 1000));
    },
    failed(address) {
      const times = [...recent(address), now()].slice(-allowed);
      failures.delete(address); // re-inserted last: the map stays in order of the latest failure
      failures.set(address, times);
      while (failures.size > MAX_ADDRESSES) failures.delete(failures.keys().next().value!);
    },
    succeeded(address) {
      failures.delete(address);
    },
  };
}
