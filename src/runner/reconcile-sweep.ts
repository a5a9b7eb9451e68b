import { reconcileDue } from '../sessions/transition-reconcile.js';
import { workingSessionsOn } from '../sessions/working-sessions.js';
import { applyUnlessEnded } from './apply-unless-ended.js';
import type { RunnerDeps } from './runner-deps.js';

/**
 * Looks now and then for this runner's sessions that are `working` with nothing running them
 * (a turn job that died, a turn lost) for longer than a turn may take, and has the state machine
 * pick them up again or hand them to a human. Returns a function that stops the sweep.
 */
export function startReconcileSweep(
  deps: RunnerDeps,
  options: { intervalMs?: number } = {},
): () => void {
  const turnMinutes = deps.operatorConfig.limits.turnMinutes;
  const intervalMs = options.intervalMs ?? Math.min(60_000, Math.max(1_000, turnMinutes * 6_000));
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const now = new Date();
      for (const working of await workingSessionsOn(deps.db, deps.runnerId)) {
        const { session } = working;
        const idleMinutes = reconcileDue(
          { ...working, status: session.status, followedHere: deps.active.has(session.id) },
          turnMinutes,
          now,
        );
        if (idleMinutes === null) continue;
        deps.log.warn({ sessionId: session.id, idleMinutes }, 'reconciling a session nothing runs');
        // It may have moved on since it was read: the state machine then refuses, and that is fine.
        await applyUnlessEnded(deps, session.id, { type: 'reconcile', idleMinutes }).catch(
          (error: Error) => deps.log.debug({ err: error, sessionId: session.id }, 'not reconciled'),
        );
      }
    } catch (error) {
      deps.log.warn({ err: error }, 'the reconcile sweep failed; it runs again');
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
