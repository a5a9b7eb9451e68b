import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq, inArray, like, notInArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { jobs, runners, sessions, TERMINAL_SESSION_STATUSES } from '../db/schema.js';
import type { JobQueue } from '../jobs/queue.js';
import { createWorker, type Worker } from '../jobs/worker.js';
import type { TurnMetrics } from '../metrics/metrics.js';
import type { OperatorConfig } from '../operator-config.js';
import { createSessionService } from '../sessions/session-service.js';
import { SettingsError } from '../settings.js';
import type { AgentAdapter } from './adapters/adapter.js';
import { type AdapterRegistryConfig, createAdapterRegistry } from './adapters/index.js';
import type { RunnerGitHub } from './runner-github.js';
import { createProcessRuntime } from './runtimes/process-runtime.js';
import type { Runtime } from './runtimes/runtime.js';
import { createTmuxRuntime } from './runtimes/tmux-runtime.js';
import { createSessionJobs } from './session-jobs.js';
import { createWorkspaces, type WorkspaceCheckout } from './workspaces.js';

const HEARTBEAT_MS = 10_000;
const VERSION = '0.1.0';

export interface RunnerHostOptions {
  database: Database;
  queue: JobQueue;
  github: RunnerGitHub;
  operatorConfig: OperatorConfig;
  dataDir: string;
  workspaceRoot: string;
  /** Full worktrees (default) or overlays on a shared checkout (WORKSPACE_CHECKOUT). */
  workspaceCheckout?: WorkspaceCheckout;
  maxSessions: number;
  log: Logger;
  env?: Record<string, string | undefined>;
  /** Where finished turns are counted (the orchestrator's /metrics). */
  metrics?: TurnMetrics | undefined;
  /** Overrides for tests. */
  runtime?: Runtime;
  adapterFor?: (name: string) => AgentAdapter | undefined;
  runnerId?: string;
  pollMs?: number;
  /** How long running jobs may finish at shutdown before their leases are handed back. */
  stopGraceMs?: number;
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

  const workspaces = createWorkspaces({
    root: options.workspaceRoot,
    log: runnerLog,
    checkout: options.workspaceCheckout ?? 'worktree',
  });
  await workspaces.check().catch((error: Error) => {
    throw new SettingsError('WORKSPACE_CHECKOUT', error.message, { cause: error });
  });
  const runtime =
    options.runtime ??
    (options.operatorConfig.runtime === 'tmux'
      ? createTmuxRuntime({ log: runnerLog })
      : createProcessRuntime({ log: runnerLog }));
  // The operator config validated each agent against the command schema when it was loaded.
  const adapterFor =
    options.adapterFor ??
    createAdapterRegistry({
      agents: options.operatorConfig.agents as AdapterRegistryConfig['agents'],
    });
  const sessionService = createSessionService({ queue });
  const sessionJobs = createSessionJobs({
    database,
    sessionService,
    workspaces,
    runtime,
    adapterFor,
    github: options.github,
    operatorConfig: options.operatorConfig,
    runnerId,
    stateRoot,
    agentHome: path.join(options.workspaceRoot, 'home'),
    env: options.env ?? process.env,
    log: runnerLog,
    metrics: options.metrics,
  });

  await database.db
    .insert(runners)
    .values({
      id: runnerId,
      hostname: os.hostname(),
      pid: process.pid,
      maxSessions: options.maxSessions,
      version: VERSION,
    })
    .onConflictDoUpdate({
      target: runners.id,
      set: {
        pid: process.pid,
        maxSessions: options.maxSessions,
        startedAt: sql`now()`,
        heartbeatAt: sql`now()`,
      },
    });

  // Jobs an earlier process of this runner held: claimable now rather than when their leases run out.
  const reclaimed = await database.db
    .update(jobs)
    .set({ leaseExpiresAt: sql`now() - interval '1 second'` })
    .where(and(eq(jobs.status, 'running'), like(jobs.lockedBy, `${runnerId}:%`)))
    .returning({ id: jobs.id });
  if (reclaimed.length > 0)
    runnerLog.info({ jobs: reclaimed.length }, 'taking back jobs from before the restart');

  await pruneOrphanWorktrees();

  const heartbeat = setInterval(() => {
    database.db
      .update(runners)
      .set({ heartbeatAt: sql`now()` })
      .where(eq(runners.id, runnerId))
      .catch((error: unknown) => runnerLog.warn({ err: error }, 'heartbeat failed'));
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const workers: Worker[] = [
    createWorker({
      database,
      queue,
      handlers: sessionJobs.handlers,
      log: runnerLog,
      runnerId,
      workerId: `${runnerId}:agents-${randomBytes(3).toString('hex')}`,
      concurrency: options.maxSessions,
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
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    }),
  ];
  for (const worker of workers) await worker.start();
  runnerLog.info({ maxSessions: options.maxSessions, runtime: runtime.name }, 'runner started');

  /** Worktrees whose session ended or never existed (e.g. removed while the runner was down). */
  async function pruneOrphanWorktrees() {
    const onDisk = await workspaces.listSessions();
    if (onDisk.length === 0) return;
    const live = await database.db
      .select({ id: sessions.id })
      .from(sessions)
      .where(
        and(
          inArray(sessions.id, onDisk),
          notInArray(sessions.status, [...TERMINAL_SESSION_STATUSES]),
        ),
      );
    const liveIds = new Set(live.map((s) => s.id));
    for (const sessionId of onDisk) {
      if (liveIds.has(sessionId)) continue;
      const [row] = await database.db.select().from(sessions).where(eq(sessions.id, sessionId));
      await workspaces
        .remove({
          sessionId,
          repo: row ? { id: row.repositoryId, cloneUrl: row.cloneUrl } : null,
          branch: row?.branch ?? null,
        })
        .catch((error: unknown) =>
          runnerLog.warn({ err: error, sessionId }, 'could not prune worktree'),
        );
      runnerLog.info({ sessionId }, 'pruned a worktree with no live session');
    }
  }

  return {
    runnerId,
    runtime,
    activeSessions: sessionJobs.activeSessions,
    /** Where a session's worktree is (or will be) on this runner. */
    workspacePath: (sessionId: string) => workspaces.pathFor(sessionId),
    /** Stops taking jobs; running agent turns go on and are adopted by the next start. */
    async stop() {
      clearInterval(heartbeat);
      await Promise.all(workers.map((w) => w.stop({ graceMs: options.stopGraceMs ?? 2_000 })));
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
