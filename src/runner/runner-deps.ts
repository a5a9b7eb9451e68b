import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { TurnMetrics } from '../metrics/metrics.js';
import type { OperatorConfig } from '../operator-config.js';
import type { RunnerGitHub } from '../sessions/runner-github.js';
import type { SessionService } from '../sessions/session-service.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { AgentAdapter } from './adapters/adapter.js';
import type { GitHost } from './remote-url.js';
import type { RunningTurn, Runtime } from './runtimes/runtime.js';
import type { Sandbox } from './sandbox/sandbox.js';
import type { SessionEgress } from './sandbox/session-egress.js';
import type { TurnLimits } from './sandbox/turn-limits.js';
import type { Workspaces } from './workspace/workspaces.js';

/** What the runner's steps work with. */
export interface RunnerDeps {
  /** Every change of a session goes through it. */
  sessions: SessionService;
  store: SessionStore;
  /** For the turn rows (sessions/turn-store.ts). */
  db: Db;
  workspaces: Workspaces;
  runtime: Runtime;
  /** Adapter for an agent name (built-in or operator-defined); undefined when unknown. */
  adapterFor(name: string): AgentAdapter | undefined;
  github: RunnerGitHub;
  /** Where git fetches and pushes for sessions with an installation, and sends their tokens. */
  githubHost: GitHost;
  operatorConfig: OperatorConfig;
  runnerId: string;
  /** Where prompts, turn logs and exit files live: `<WORKSPACE_ROOT>/state/<session id>`. */
  stateRoot: string;
  /** Holds each session's own HOME (`<root>/homes/<session id>`; sandboxed-argv.ts homeOf). */
  homesRoot: string;
  /** Where every turn and setup command runs (SANDBOX). */
  sandbox: Sandbox;
  /** The sessions' egress proxies, when commands run in a sandbox. */
  egress: SessionEgress | null;
  /** Each turn's cgroups (memory, processes), when the sandbox runs and the kernel offers them. */
  limits: TurnLimits | null;
  /** The app's environment; agents get an allow-listed part of it. */
  env: Record<string, string | undefined>;
  log: Logger;
  /** Told of each turn this runner sees finish. */
  metrics?: TurnMetrics | undefined;
  /** Turns this process is running or watching, by session id. */
  active: Map<string, RunningTurn>;
}
