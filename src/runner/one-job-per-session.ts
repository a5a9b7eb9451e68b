/**
 * Runs a session's jobs one at a time in this process: a job that finds another of its session
 * under way leaves it be, and the one under way looks again when it is done (a message may have
 * arrived after it last looked).
 */
export function oneJobPerSession(lookAgain: (sessionId: string) => Promise<void>) {
  const busy = new Set<string>();
  const turnedAway = new Set<string>();
  return async function exclusively(sessionId: string, fn: () => Promise<void>): Promise<void> {
    if (busy.has(sessionId)) {
      turnedAway.add(sessionId);
      return;
    }
    busy.add(sessionId);
    try {
      await fn();
    } finally {
      busy.delete(sessionId);
      if (turnedAway.delete(sessionId)) await lookAgain(sessionId);
    }
  };
}
