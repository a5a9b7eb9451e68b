import path from 'node:path';
import type { Session } from '../db/schema.js';
import type { AgentAdapter } from './adapters/adapter.js';
import { assertSessionId } from './names.js';
import type { RunnerDeps } from './runner-deps.js';
import { egressPlan } from './sandbox/egress-plan.js';
import { programMounts } from './sandbox/program-mounts.js';
import { PROXY_PORT } from './sandbox/session-egress.js';

type Deps = Pick<RunnerDeps, 'sandbox' | 'egress' | 'workspaces' | 'homesRoot' | 'operatorConfig'>;

/** A session's own HOME: `<WORKSPACE_ROOT>/homes/<session id>`, empty at first, removed at cleanup. */
export function homeOf(deps: Pick<RunnerDeps, 'homesRoot'>, sessionId: string): string {
  return path.join(deps.homesRoot, assertSessionId(sessionId));
}

/**
 * The argv that runs a session's command (a turn, a setup command) in its sandbox: its checkout
 * and HOME writable, its program and the objects its checkout borrows read-only, and, through
 * the session's egress proxy, the hosts its agent needs. With SANDBOX=off, the argv itself.
 */
export async function sandboxedArgv(
  deps: Deps,
  input: {
    session: Pick<Session, 'id' | 'repositoryId' | 'workspacePath'>;
    adapter: Pick<AgentAdapter, 'egress'> | undefined;
    argv: readonly string[];
    env: Record<string, string>;
    cwd: string;
  },
): Promise<string[]> {
  const { session, argv, env } = input;
  if (deps.sandbox.kind === 'off') return [...argv];
  const workdir = session.workspacePath ?? deps.workspaces.pathFor(session.id);
  const plan = egressPlan({
    adapterHosts: input.adapter?.egress ?? [],
    operatorAllow: deps.operatorConfig.egress.allow,
    env,
    reservedPort: PROXY_PORT,
  });
  const egress = deps.egress ? await deps.egress.open(session.id, plan) : undefined;
  return deps.sandbox.command(
    {
      workdir,
      layers: await deps.workspaces.layersFor(session.id, session.repositoryId),
      home: homeOf(deps, session.id),
      readOnly: [
        ...programMounts(argv, env.PATH),
        ...deps.workspaces.readOnlyFor(session.repositoryId),
      ],
      egress,
    },
    argv,
    input.cwd,
  );
}
