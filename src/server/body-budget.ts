/**
 * How many bytes of webhook bodies the process holds at once, across every request in flight. A
 * body costs memory before its signature can be checked, so an unsigned flood is bounded by this,
 * not by how many requests arrive: past it, a request is answered 503 before its body is read.
 */
export const WEBHOOK_BODY_BUDGET_BYTES = 64 * 1024 * 1024;

/** One request's share of the budget. */
export interface BodyHold {
  /** Takes `bytes` more for this request; false, taking nothing, when the budget has not got them. */
  take(bytes: number): boolean;
  /** Gives back everything this request took; a second call does nothing. */
  release(): void;
}

export interface BodyBudget {
  /** A new, empty share for one request: release it when the request ends, however it ends. */
  hold(): BodyHold;
  /** Bytes held by all requests now. */
  inUse(): number;
}

/** A budget of `limit` bytes shared by every request that holds part of it. */
export function createBodyBudget(limit: number = WEBHOOK_BODY_BUDGET_BYTES): BodyBudget {
  let used = 0;
  return {
    inUse: () => used,
    hold() {
      let held = 0;
      let released = false;
      return {
        take(bytes) {
          if (released || used + bytes > limit) return false;
          used += bytes;
          held += bytes;
          return true;
        },
        release() {
          if (released) return;
          released = true;
          used -= held;
          held = 0;
        },
      };
    },
  };
}
