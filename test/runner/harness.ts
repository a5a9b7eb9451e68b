import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { pino } from 'pino';
import {
  type Session,
  type SessionStatus,
  sessionEvents,
  sessions,
  turns,
} from '../../src/db/schema.js';
import { createGitHubApp } from '../../src/github/app.js';
import { createInstallationClient } from '../../src/github/installation-client.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { type OperatorConfig, operatorConfigSchema } from '../../src/operator-config.js';
import { type RunnerHost, startRunnerHost } from '../../src/runner/runner-host.js';
import type { Runtime } from '../../src/runner/runtimes/runtime.js';
import type { SandboxKind } from '../../src/runner/sandbox/sandbox.js';
import type { WorkspaceCheckout } from '../../src/runner/workspace/workspaces.js';
import type { RepoConfig } from '../../src/sessions/repo-config.js';
import { createSessionService } from '../../src/sessions/session-service.js';
import { githubGitHost, loadSettings } from '../../src/settings.js';
import { type Engine, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { createOrigin, type Origin } from '../helpers/git.js';
import { startLocalGitHub } from '../helpers/local-github.js';
import { unmountUnder } from '../helpers/mounts.js';
import { generatePrivateKey } from '../helpers/processes.js';

export const FAKE_AGENT = fileURLToPath(new URL('../fixtures/fake-agent.mjs', import.meta.url));
export const INSTALLATION_ID = 7;
export const REPOSITORY = 'octo/widgets';
export const REPOSITORY_ID = 1;

/** The fake agent as an operator-defined command agent speaking Claude Code's stream-json. */
export const fakeAgentConfig = {
  firstTurn: [process.execPath, FAKE_AGENT, 'first', '{promptFile}'],
  nextTurn: [process.execPath, FAKE_AGENT, 'next', '{messageFile}', '{sessionRef}'],
  output: 'claude-stream-json',
};

/** What a leaked secret would look like in the agent's environment. */
export const APP_SECRETS = {
  WEBHOOK_SECRET: 'leak-me-webhook-secret',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----leak-me',
  DATABASE_URL: 'postgres://leak-me@db/app',
  GITHUB_TOKEN: 'ghs_leak_me_token',
  API_TOKEN: 'leak-me-api-token-0123456789',
};

export interface HarnessOptions {
  engine?: Engine;
  maxSessions?: number;
  operator?: Record<string, unknown>;
  runtime?: Runtime;
  /** Added to the environment the runner takes agents' variables from. */
  env?: Record<string, string>;
  workspaceCheckout?: WorkspaceCheckout;
  /** Where turns run (default bwrap, as in production). */
  sandbox?: SandboxKind;
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/**
 * A database, a local GitHub serving a bare origin over HTTP as `octo/widgets`, and a runner host,
 * ready to take sessions.
 */
export async function startHarness(options: HarnessOptions = {}) {
  const t: TestDatabase = await openTestDatabase(options.engine ?? 'pglite');
  const origin: Origin = await createOrigin();
  const github = await startLocalGitHub();
  // The origin is the local GitHub's repository: the runner fetches and pushes over HTTP to it.
  github.addRepository({
    fullName: REPOSITORY,
    id: REPOSITORY_ID,
    installationId: INSTALLATION_ID,
    gitDir: origin.path,
    defaultBranch: 'main',
  });
  const root = mkdtempSync(path.join(tmpdir(), 'ao-runner-'));
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const queue = createJobQueue({ db: t.database.db });
  const service = createSessionService({ db: t.database.db, queue });
  const operatorConfig: OperatorConfig = operatorConfigSchema.parse({
    agents: { fake: fakeAgentConfig },
    ...options.operator,
  });
  // A runner verifies no webhook signature: no WEBHOOK_SECRET needed.
  const settings = loadSettings(
    { APP_ID: '1', PRIVATE_KEY: generatePrivateKey(), ...github.env },
    { receivesWebhooks: false },
  );
  const probot = createGitHubApp(settings, log).probot!;
  const githubHost = githubGitHost(settings);
  const hostOptions = {
    database: t.database,
    queue,
    sessions: service,
    github: createInstallationClient(probot),
    githubHost,
    operatorConfig,
    dataDir: root,
    workspaceRoot: path.join(root, 'workspaces'),
    workspaceCheckout: options.workspaceCheckout ?? 'auto',
    sandbox: options.sandbox ?? 'bwrap',
    maxSessions: options.maxSessions ?? 4,
    log,
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8', ...APP_SECRETS, ...options.env },
    pollMs: 500,
    reconcileMs: 500,
    ...(options.runtime ? { runtime: options.runtime } : {}),
  };
  let host: RunnerHost = await startRunnerHost(hostOptions);
  let issueNumber = 0;

  return {
    t,
    db: t.database.db,
    origin,
    github,
    githubHost,
    service,
    queue,
    root,
    /**
     * The session's git folder as the runner keeps it: in its overlay's upper layer (the folder
     * itself is mounted only inside its sandboxes), or in the checkout.
     */
    gitDirOf(sessionId: string, workspacePath: string): string {
      const upper = path.join(root, 'workspaces', 'overlays', sessionId, 'upper', '.git');
      return existsSync(upper) ? upper : path.join(workspacePath, '.git');
    },
    get host() {
      return host;
    },
    /** Stops the runner host (running turns go on) and starts a new one, as after a restart. */
    async restartHost() {
      await host.stop();
      host = await startRunnerHost(hostOptions);
    },

    /** A session for a new issue, queued with its spawn job, as a trigger would create it. */
    async createSession(
      issue: {
        title?: string;
        body?: string;
        agent?: string;
        profile?: string;
        config?: Partial<RepoConfig>;
      } = {},
    ) {
      issueNumber += 1;
      const number = issueNumber;
      const title = issue.title ?? `Fix widget ${number}`;
      const session = await service.create({
        installationId: INSTALLATION_ID,
        repositoryId: REPOSITORY_ID,
        repositoryFullName: REPOSITORY,
        cloneUrl: github.gitUrl(REPOSITORY),
        issueNumber: number,
        agent: issue.agent ?? 'fake',
        profile: issue.profile ?? null,
        triggeredBy: 'alice',
        context: {
          issue: {
            repository: REPOSITORY,
            number,
            title,
            body: issue.body ?? 'Please fix it.',
            comments: [],
          },
          config: { baseBranch: 'main', ...issue.config },
        },
      });
      return session!;
    },

    async session(id: string): Promise<Session> {
      const [row] = await t.database.db.select().from(sessions).where(eq(sessions.id, id));
      return row!;
    },

    /** True once the session has had exactly n turns and all have finished. */
    async turnsDone(id: string, n: number): Promise<boolean> {
      const all = await this.turnsOf(id);
      return all.length === n && all.every((t) => t.status === 'finished');
    },

    async turnsOf(id: string) {
      return t.database.db
        .select()
        .from(turns)
        .where(eq(turns.sessionId, id))
        .orderBy(asc(turns.number));
    },

    async eventsOf(id: string) {
      return t.database.db
        .select()
        .from(sessionEvents)
        .where(eq(sessionEvents.sessionId, id))
        .orderBy(asc(sessionEvents.id));
    },

    async queueMessage(id: string, body: string, source = 'alice') {
      await service.apply(id, { type: 'message', body, source });
    },

    async requestStop(id: string, cleanup = true) {
      await service.apply(id, {
        type: 'stop-requested',
        status: 'stopped',
        reason: 'stopped by alice',
        cleanup,
        by: 'alice',
      });
    },

    /** Waits until the session reaches one of the statuses (and, optionally, a condition). */
    async waitFor(
      id: string,
      statuses: SessionStatus[],
      {
        timeoutMs = 20_000,
        until,
      }: { timeoutMs?: number; until?: (s: Session) => boolean | Promise<boolean> } = {},
    ): Promise<Session> {
      const deadline = Date.now() + timeoutMs;
      let last: Session | undefined;
      while (Date.now() < deadline) {
        // The condition first, the status after: a status read later cannot be older than it.
        const met = !until || (await until(await this.session(id)));
        last = await this.session(id);
        if (met && statuses.includes(last.status)) return last;
        await new Promise((r) => setTimeout(r, 100));
      }
      const events = (await this.eventsOf(id))
        .map((e) => `${e.kind} ${JSON.stringify(e.data)}`)
        .join('\n');
      throw new Error(
        `session ${id} is ${last?.status} (${last?.statusReason}), not ${statuses.join('|')}; events:\n${events}`,
      );
    },

    async cleanup() {
      await host.stop();
      await github.close();
      await origin.cleanup();
      await t.cleanup();
      await unmountUnder(root);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** True while any process of the group is alive (zombies, waiting to be reaped, count as gone). */
export function groupAlive(pgid: number): boolean {
  const table = execFileSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' });
  return table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .some(([group, stat]) => Number(group) === pgid && !stat?.startsWith('Z'));
}
