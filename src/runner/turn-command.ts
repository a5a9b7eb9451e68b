import type { Session, Turn } from '../db/schema.js';
import { configOf } from '../sessions/session-context.js';
import type { AgentAdapter, TurnCommand } from './adapters/adapter.js';
import { agentEnvironment } from './agent-env.js';
import { agentProfileOf } from './agent-profile.js';
import type { RunnerDeps } from './runner-deps.js';
import type { TurnSpec } from './runtimes/runtime.js';
import { proxyEnvironment } from './sandbox/egress-forwarder.js';
import { PROXY_PORT } from './sandbox/session-egress.js';
import { homeOf, sandboxedArgv } from './sandboxed-argv.js';
import { stateDirOf, turnInputFile } from './turn-files.js';

type Deps = Pick<
  RunnerDeps,
  | 'env'
  | 'homesRoot'
  | 'operatorConfig'
  | 'stateRoot'
  | 'sandbox'
  | 'egress'
  | 'workspaces'
  | 'limits'
>;

/** The name of a turn's cgroups (turn-limits.ts). */
export const turnCgroupName = (sessionId: string, turn: Pick<Turn, 'number'>) =>
  `${sessionId}-${turn.number}`;

/**
 * The agent's whole environment: an allow-list, the adapter's and the operator's variables, its
 * session's own HOME and, in the sandbox, the proxy that is its only way out.
 */
export function environmentFor(
  deps: Pick<Deps, 'env' | 'homesRoot' | 'operatorConfig' | 'sandbox'>,
  adapter: Pick<AgentAdapter, 'passEnv'>,
  command: Pick<TurnCommand, 'env'>,
  sessionId: string,
): Record<string, string> {
  const env = agentEnvironment({
    from: deps.env,
    home: homeOf(deps, sessionId),
    pass: [...adapter.passEnv, ...deps.operatorConfig.env.pass],
    set: { ...deps.operatorConfig.env.set, ...command.env },
  });
  return deps.sandbox.kind === 'off' ? env : { ...env, ...proxyEnvironment(PROXY_PORT) };
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
  const sandboxed = deps.sandbox.kind !== 'off';
  if (turn.number === 1)
    return adapter.firstTurn({
      workdir: session.workspacePath!,
      promptFile: input,
      profile,
      sandboxed,
    });
  return adapter.nextTurn({
    workdir: session.workspacePath!,
    sandboxed,
    messageFile: input,
    sessionRef: session.agentSessionRef,
    profile,
  });
}

/** What the runtime runs: the command in its sandbox, in the checkout, logged to the turn's files. */
export async function turnSpec(
  deps: Deps,
  adapter: AgentAdapter,
  session: Session,
  turn: Turn,
): Promise<TurnSpec> {
  const command = commandFor(deps, adapter, session, turn);
  const env = environmentFor(deps, adapter, command, session.id);
  const cwd = session.workspacePath!;
  return {
    sessionId: session.id,
    turnId: turn.id,
    argv: await sandboxedArgv(deps, { session, adapter, argv: command.argv, env, cwd }),
    program: command.argv[0],
    env,
    cwd,
    logFile: turn.logPath,
    exitFile: exitFileOf(turn),
    stdinFile: command.stdinFile,
    timeoutMs: deps.operatorConfig.limits.turnMinutes * 60_000,
    cgroups: deps.limits?.available
      ? await deps.limits.open(turnCgroupName(session.id, turn))
      : undefined,
  };
}

export const exitFileOf = (turn: Pick<Turn, 'logPath'>) => turn.logPath.replace(/\.log$/, '.exit');
