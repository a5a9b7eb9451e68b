import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import type { JobQueue } from '../jobs/queue.js';
import { reclaimLeasesOf } from '../jobs/reclaim-leases.js';
import { createWorker, type DeadJobHook, type Worker } from '../jobs/worker.js';
import type { TurnMetrics } from '../metrics/metrics.js';
import type { OperatorConfig } from '../operator-config.js';
import type { RunnerGitHub } from '../sessions/runner-github.js';
import type { SessionService } from '../sessions/session-service.js';
import { createSessionStore } from '../sessions/session-store.js';
import { SettingsError } from '../settings.js';
import type { AgentAdapter } from './adapters/adapter.js';
import { createAdapterRegistry } from './adapters/index.js';
import { pruneOrphanWorktrees } from './prune-worktrees.js';
import { startReconcileSweep } from './reconcile-sweep.js';
import type { GitHost } from './remote-url.js';
import type { RunnerDeps } from './runner-deps.js';
import { registerRunner } from './runner-registry.js';
import { createProcessRuntime } from './runtimes/process-runtime.js';
import type { RunningTurn, Runtime } from './runtimes/runtime.js';
import { createTmuxRuntime } from './runtimes/tmux-runtime.js';
import { createSandbox } from './sandbox/create-sandbox.js';
import { parseAllowEntry } from './sandbox/egress-allow.js';
import type { SandboxKind } from './sandbox/sandbox.js';
import { createSessionEgress } from './sandbox/session-egress.js';
import { openTurnLimits } from './sandbox/turn-limits.js';
import { homeOf } from './sandboxed-argv.js';
import { createSessionJobs } from './session-jobs.js';
import { createWorkspaces, type WorkspaceCheckout } from './workspace/workspaces.js';

export interface RunnerHostOptions {
  database: Database;
  queue: JobQueue;
  /** Every change of a session goes through it. */
  sessions: SessionService;
  github: RunnerGitHub;
  /** The configured GitHub (GHE_HOST, GHE_PROTOCOL): git's only remote when it holds a token. */
  githubHost: GitHost;
  operatorConfig: OperatorConfig;
  dataDir: string;
  workspaceRoot: string;
  /** Overlays on a shared checkout where they work (auto, the default), full checkouts, or overlays only (WORKSPACE_CHECKOUT). */
  workspaceCheckout?: WorkspaceCheckout;
  /** Where turns and setup commands run: bubblewrap (default) or, only when asked, none (SANDBOX). */
  sandbox?: SandboxKind;
  maxSessions: number;
  log: Logger;
  env?: Record<string, string | undefined>;
  /** Where finished turns are counted (the orchestrator's /metrics). */
  metrics?: TurnMetrics | undefined;
  /** What the workers do with a job that gave up (the composition's dead-job reports). */
  onDeadJob?: DeadJobHook | undefined;
  /** Overrides for tests. */
  runtime?: Runtime;
  adapterFor?: (name: string) => AgentAdapter | undefined;
  runnerId?: string;
  pollMs?: number;
  /** How long running jobs may finish at shutdown before their leases are handed back. */
  stopGraceMs?: number;
  /** How often to look for sessions left working with nothing running them (tests). */
  reconcileMs?: number;
}

export type RunnerHost = Awaited<ReturnType<typeof startRunnerHost>>;

/**
 * Runs sessions on this machine: claims their jobs, keeps a heartbeat row, and after a restart
 * takes back its own unfinished jobs at once (the turns they watch are adopted, not rerun).
 */
export async function startRunnerHost(options: RunnerHostOptions) {
  const { database, queue, log } = options;
  const runnerId = options.runnerId ?? persistentRunnerId(options.dataDir);
  const runnerLog = log.child({ runnerId });
  const stateRoot = path.join(options.workspaceRoot, 'state');
  mkdirSync(stateRoot, { recursive: true });

  const sandbox = await startSandbox(options, runnerLog);
  const workspaces = await Promise.resolve()
    .then(async () => {
      const made = createWorkspaces({
        root: options.workspaceRoot,
        log: runnerLog,
        checkout: options.workspaceCheckout ?? 'auto',
        sandbox,
        gitHost: options.githubHost,
      });
      await made.check();
      return made;
    })
    .catch((error: Error) => {
      throw new SettingsError('WORKSPACE_CHECKOUT', error.message, { cause: error });
    });
  const runtime =
    options.runtime ??
    (options.operatorConfig.runtime === 'tmux'
      ? createTmuxRuntime({ log: runnerLog })
      : createProcessRuntime({ log: runnerLog }));
  const adapterFor =
    options.adapterFor ?? createAdapterRegistry({ agents: options.operatorConfig.agents });
  const store = createSessionStore(database.db);
  const active = new Map<string, RunningTurn>();
  const deps: RunnerDeps = {
    sessions: options.sessions,
    store,
    db: database.db,
    workspaces,
    runtime,
    adapterFor,
    github: options.github,
    githubHost: options.githubHost,
    operatorConfig: options.operatorConfig,
    runnerId,
    stateRoot,
    homesRoot: path.join(options.workspaceRoot, 'homes'),
    sandbox,
    limits: await turnLimitsFor(sandbox.kind, options.operatorConfig, runnerLog),
    egress:
      sandbox.kind === 'off'
        ? null
        : createSessionEgress({
            dir: path.join(options.workspaceRoot, 'egress'),
            log: runnerLog,
            onRefused: (sessionId, target) =>
              void options.sessions
                .record(sessionId, 'egress-refused', target)
                .catch((error: unknown) =>
                  runnerLog.warn({ err: error, sessionId }, 'could not record a refused host'),
                ),
          }),
    env: options.env ?? process.env,
    log: runnerLog,
    metrics: options.metrics,
    active,
  };
  const sessionJobs = createSessionJobs(deps);

  const stopHeartbeat = await registerRunner(database.db, {
    id: runnerId,
    maxSessions: options.maxSessions,
    log: runnerLog,
  });
  const reclaimed = await reclaimLeasesOf(database.db, runnerId);
  if (reclaimed > 0)
    runnerLog.info({ jobs: reclaimed }, 'taking back jobs from before the restart');
  await pruneOrphanWorktrees(workspaces, store, runnerLog, (id) => homeOf(deps, id));

  const workers: Worker[] = [
    createWorker({
      database,
      queue,
      handlers: sessionJobs.handlers,
      log: runnerLog,
      runnerId,
      workerId: `${runnerId}:agents-${randomBytes(3).toString('hex')}`,
      concurrency: options.maxSessions,
      onDead: options.onDeadJob,
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    }),
    createWorker({
      database,
      queue,
      handlers: sessionJobs.controlHandlers,
      log: runnerLog,
      runnerId,
      workerId: `${runnerId}:control-${randomBytes(3).toString('hex')}`,
      concurrency: 2,
      onDead: options.onDeadJob,
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    }),
  ];
  for (const worker of workers) await worker.start();
  const stopSweep = startReconcileSweep(
    deps,
    options.reconcileMs ? { intervalMs: options.reconcileMs } : {},
  );
  runnerLog.info(
    { maxSessions: options.maxSessions, runtime: runtime.name, sandbox: sandbox.kind },
    'runner started',
  );

  return {
    runnerId,
    runtime,
    activeSessions: () => [...active.keys()],
    /** Where a session's worktree is (or will be) on this runner. */
    workspacePath: (sessionId: string) => workspaces.pathFor(sessionId),
    /** Stops taking jobs; running agent turns go on and are adopted by the next start. */
    async stop() {
      stopHeartbeat();
      stopSweep();
      await Promise.all(workers.map((w) => w.stop({ graceMs: options.stopGraceMs ?? 2_000 })));
      await deps.egress?.closeAll();
      runnerLog.info('runner stopped');
    },
  };
}

/** A runner keeps its id across restarts, so it finds its worktrees and turns again. */
export function persistentRunnerId(dataDir: string): string {
  const file = path.join(dataDir, 'runner-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^r-[a-z0-9-]{4,60}$/.test(id)) return id;
    rmSync(file);
  }
  const host = os
    .hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 30);
  const id = `r-${host}-${randomBytes(4).toString('hex')}`;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}

/**
 * The runner's sandbox, proved with one trial run: a host that cannot build it stops the start
 * (exit 78) saying what to do. Without one, every turn says so in the log.
 */
async function startSandbox(options: RunnerHostOptions, log: Logger) {
  const kind = options.sandbox ?? 'bwrap';
  for (const entry of options.operatorConfig.egress.allow) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      throw new SettingsError('ORCHESTRATOR_CONFIG', `egress.allow: ${(error as Error).message}`);
    }
  }
  const sandbox = createSandbox({ kind, dir: path.join(options.workspaceRoot, 'sandbox') });
  await sandbox.check().catch((error: Error) => {
    throw new SettingsError('SANDBOX', error.message, { cause: error });
  });
  if (kind === 'off') {
    log.warn(
      "SANDBOX=off: agents run as this app's own user, with its files, environment and network",
    );
  }
  return sandbox;
}

/** Each turn's cgroups, or null; where the kernel does not offer them, the log says why. */
async function turnLimitsFor(kind: SandboxKind, config: OperatorConfig, log: Logger) {
  if (kind === 'off') return null;
  const { memoryMb, processes } = config.sandbox;
  const limits = await openTurnLimits({ memoryBytes: memoryMb * 1024 * 1024, processes });
  if (limits.available) {
    log.info({ memoryMb, processes }, 'each turn runs under its own limits');
    const removed = await limits.sweep();
    if (removed > 0) log.info({ removed }, 'removed the cgroups of turns that ended unseen');
  } else log.warn({ why: limits.why }, 'turns run without memory and process limits');
  return limits;
}
