import type { Session, Turn } from '../db/schema.js';
import { configOf } from '../sessions/session-context.js';
import type { AgentAdapter, TurnCommand } from './adapters/adapter.js';
import { agentEnvironment } from './agent-env.js';
import { agentProfileOf } from './agent-profile.js';
import type { RunnerDeps } from './runner-deps.js';
import type { TurnSpec } from './runtimes/runtime.js';
import { stateDirOf, turnInputFile } from './turn-files.js';

type Deps = Pick<RunnerDeps, 'env' | 'agentHome' | 'operatorConfig' | 'stateRoot'>;

/** The agent's whole environment: an allow-list, the adapter's and the operator's variables. */
export function environmentFor(
  deps: Deps,
  adapter: AgentAdapter,
  command: Pick<TurnCommand, 'env'>,
): Record<string, string> {
  return agentEnvironment({
    from: deps.env,
    home: deps.agentHome,
    pass: [...adapter.passEnv, ...deps.operatorConfig.env.pass],
    set: { ...deps.operatorConfig.env.set, ...command.env },
  });
}

/** The agent's command line for the turn: the first turn's, or a resumed session's. */
function commandFor(
  deps: Deps,
  adapter: AgentAdapter,
  session: Session,
  turn: Pick<Turn, 'number'>,
): TurnCommand {
  const { profile } = agentProfileOf(session, configOf(session), deps.operatorConfig);
  const input = turnInputFile(stateDirOf(deps.stateRoot, session.id), turn);
  if (turn.number === 1)
    return adapter.firstTurn({ workdir: session.workspacePath!, promptFile: input, profile });
  return adapter.nextTurn({
    workdir: session.workspacePath!,
    messageFile: input,
    sessionRef: session.agentSessionRef,
    profile,
  });
}

/** What the runtime runs: the command, in the worktree, logged to the turn's files. */
export function turnSpec(
  deps: Deps,
  adapter: AgentAdapter,
  session: Session,
  turn: Turn,
): TurnSpec {
  const command = commandFor(deps, adapter, session, turn);
  return {
    sessionId: session.id,
    turnId: turn.id,
    argv: command.argv,
    env: environmentFor(deps, adapter, command),
    cwd: session.workspacePath!,
    logFile: turn.logPath,
    exitFile: exitFileOf(turn),
    stdinFile: command.stdinFile,
    timeoutMs: deps.operatorConfig.limits.turnMinutes * 60_000,
  };
}

export const exitFileOf = (turn: Pick<Turn, 'logPath'>) => turn.logPath.replace(/\.log$/, '.exit');
