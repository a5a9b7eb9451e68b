import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LocalGitHub } from '../helpers/local-github.js';
import { generatePrivateKey } from '../helpers/processes.js';
import { until as waitUntil } from '../helpers/until.js';
import { ensureBuilt } from './build.js';
import { processesUnder } from './process-table.js';
import { createServerDatabase } from './server-database.js';
import { type ServerProcess, spawnServer } from './server-process.js';
import { createWorld, REPOSITORY, type WorldSetup } from './world.js';

export { ensureBuilt } from './build.js';
export { type ProcessInfo, processesUnder } from './process-table.js';
export type { LogLine, ServerProcess } from './server-process.js';
export { type EditablePayload, INSTALLATION, REPOSITORY, REPOSITORY_ID } from './world.js';

/** A session as the JSON API returns it. */
export interface ApiSession {
  id: string;
  issueNumber: number;
  prNumber: number | null;
  branch: string | null;
  headSha: string | null;
  status: string;
  statusReason: string | null;
  workspacePath: string | null;
  triggeredBy: string;
  reactionAttempts: Record<string, number>;
}

export interface ApiEvent {
  id: number;
  kind: string;
  data: Record<string, unknown>;
}

export interface WorldOptions extends WorldSetup {
  engine: 'pglite' | 'postgres';
  /** Postgres reached through a TCP proxy the test can cut. */
  proxy?: boolean;
  /** Prepares the local GitHub before the server first starts (e.g. failed deliveries to list). */
  beforeStart?: (github: LocalGitHub) => void;
  /** Set in the server's environment over the world's own (PATH, HOME, GIT_CONFIG_GLOBAL...). */
  env?: (world: { root: string; home: string; github: LocalGitHub }) => Record<string, string>;
}

export type World = Awaited<ReturnType<typeof startWorld>>;

/**
 * The shared world (./world.ts) with a fresh database and the real server started as a user
 * starts it, plus what a test needs to drive it over HTTP and to look at every place it leaves
 * traces.
 */
export async function startWorld(options: WorldOptions) {
  await ensureBuilt();
  let server: ServerProcess | undefined;
  const running = () => {
    if (!server) throw new Error('the server has not started');
    return server;
  };
  const base = await createWorld('ao-e2e-', options, () => running().url);
  const { root, github, origin } = base;
  const cwd = path.join(root, 'cwd'); // no .env here: nothing from a developer's .env leaks in
  const home = path.join(root, 'home');
  const dataDir = path.join(root, 'data');
  const workspaceRoot = path.join(dataDir, 'workspaces');
  for (const dir of [cwd, home]) mkdirSync(dir);
  const apiToken = randomBytes(24).toString('hex');
  const database = await createServerDatabase(options.engine, options.proxy).catch(
    async (error: unknown) => {
      await base.cleanup();
      throw error;
    },
  );

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    LANG: 'C.UTF-8',
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: base.secret,
    API_TOKEN: apiToken,
    ...github.env,
    ORCHESTRATOR_CONFIG: base.operatorFile,
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    PUBLIC_URL: 'https://agents.example.com',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...options.env?.({ root, home, github }),
  };

  /** Stops the server and removes everything this world made, the agents it left running too. */
  async function teardown() {
    await server?.stop().catch(() => {});
    // Agent turns outlive the server by design; the world ends the ones this test left, by pid.
    await database.drop();
    await base.cleanup();
  }

  options.beforeStart?.(github);
  try {
    server = await spawnServer(env, cwd);
  } catch (error) {
    await teardown();
    throw error;
  }
  /** Every server started, the killed ones too: their logs count. */
  const servers: ServerProcess[] = [server];

  const until = <T>(
    what: string,
    check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
    timeoutMs = 60_000,
  ) => waitUntil(what, check, timeoutMs, () => `server output:\n${tail(running().output())}`);

  async function api<T>(route: string, init: RequestInit = {}): Promise<T> {
    const res = await fetch(`${running().url}${route}`, {
      ...init,
      headers: {
        authorization: `Bearer ${apiToken}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });
    if (!res.ok) throw new Error(`${route} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  const world = {
    ...base,
    dataDir,
    workspaceRoot,
    databaseUrl: database.url,
    proxy: database.proxy,
    until,
    api,
    get server() {
      return running();
    },
    /** Every log line of every server started so far. */
    logs: () => servers.flatMap((s) => s.logs()),

    /** Kills the server's process group with SIGKILL and waits until it is gone. */
    async crash() {
      running().kill('SIGKILL');
      await running().exited;
    },
    /** Starts the server again with the same settings and DATA_DIR. */
    async restart() {
      server = await spawnServer(env, cwd);
      servers.push(server);
      return server;
    },

    async sessions(issueNumber?: number): Promise<ApiSession[]> {
      const { sessions } = await api<{ sessions: ApiSession[] }>(
        `/api/sessions?repository=${REPOSITORY}&limit=200`,
      );
      return issueNumber === undefined
        ? sessions
        : sessions.filter((s) => s.issueNumber === issueNumber);
    },
    async session(id: string): Promise<ApiSession> {
      return (await api<{ session: ApiSession }>(`/api/sessions/${id}`)).session;
    },
    async events(id: string): Promise<ApiEvent[]> {
      return (await api<{ events: ApiEvent[] }>(`/api/sessions/${id}/events?limit=1000`)).events;
    },
    /** How many of the session's turns have finished, by its events. */
    async turnsFinished(id: string): Promise<number> {
      return (await world.events(id)).filter((e) => e.kind === 'turn-finished').length;
    },
    /**
     * Waits for the issue's live session to reach a status once a condition holds. The condition
     * is read first and the status after, so the status cannot be older than the condition.
     */
    async waitForSession(
      issueNumber: number,
      statuses: string[],
      condition: (s: ApiSession) => boolean | Promise<boolean> = () => true,
      timeoutMs = 60_000,
    ): Promise<ApiSession> {
      return until(
        `the session of #${issueNumber} to be ${statuses.join('|')}`,
        async () => {
          const [before] = await world.sessions(issueNumber);
          if (!before || !(await condition(before))) return undefined;
          const after = await world.session(before.id);
          return statuses.includes(after.status) ? after : undefined;
        },
        timeoutMs,
      );
    },
    /** The outcomes the lifecycle logged for a delivery ("intent applied"), one per run. */
    intentOutcomes: (deliveryId: string) =>
      world
        .logs()
        .filter((l) => l.msg === 'intent applied' && l.deliveryId === deliveryId)
        .map((l) => String(l.outcome)),
    /** The origin's branch names. */
    async originBranches(): Promise<string[]> {
      const { stdout } = await runGit(origin.path, ['for-each-ref', '--format=%(refname)']);
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((ref) => ref.replace(/^refs\/heads\//, ''));
    },
    async show(branch: string, file: string): Promise<string> {
      return (await runGit(origin.path, ['show', `refs/heads/${branch}:${file}`])).stdout;
    },
    /** Processes (not zombies) other than the server's own group working in or on a path. */
    processesUnder: (dir: string) => processesUnder(dir, running().pid),

    cleanup: teardown,
  };
  return world;
}

function runGit(cwd: string, args: string[]) {
  return new Promise<{ stdout: string }>((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr}`));
      else resolve({ stdout });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}
