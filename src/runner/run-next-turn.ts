import type { JobContext } from '../jobs/worker.js';
import { configOf } from '../sessions/session-context.js';
import { agentProfileOf } from './agent-profile.js';
import { applyUnlessEnded } from './apply-unless-ended.js';
import { runTurn } from './run-turn.js';
import type { RunnerDeps } from './runner-deps.js';
import { stateDirOf } from './turn-files.js';

/**
 * Asks the state machine for the session's next turn (the first, one for queued messages, or the
 * unfinished one after a restart) and runs it; nothing when there is nothing to do now.
 */
export async function runNextTurn(
  deps: RunnerDeps,
  sessionId: string,
  first: boolean,
  context: JobContext,
): Promise<void> {
  const applied = await applyUnlessEnded(deps, sessionId, {
    type: 'turn-chosen',
    first,
    runnerId: deps.runnerId,
    stateDir: stateDirOf(deps.stateRoot, sessionId),
  });
  if (!applied?.turn) return;
  const { session, turn } = applied;
  const { agent } = agentProfileOf(session, configOf(session), deps.operatorConfig);
  const adapter = deps.adapterFor(agent);
  if (!adapter) return;
  await runTurn(deps, session, turn, adapter, context);
}
