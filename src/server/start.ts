import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import { createDatabase, type Database } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createGitHubApp, type GitHubApp } from '../github/app.js';
import { type DeliveryHandler, recordOnly } from '../github/deliveries.js';
import { createDeliveryRecovery } from '../github/delivery-recovery.js';
import { createInstallationClient } from '../github/installation-client.js';
import { createLifecycle } from '../github/lifecycle.js';
import type { Octokit } from '../github/octokit.js';
import { createWebhookHandler } from '../github/webhook-handler.js';
import { createJobQueue, type JobQueue } from '../jobs/queue.js';
import { createWorker, type JobHandler, type Worker } from '../jobs/worker.js';
import { createMetrics } from '../metrics/metrics.js';
import { loadOperatorConfig } from '../operator-config.js';
import { type RunnerHost, type RunnerHostOptions, startRunnerHost } from '../runner/runner-host.js';
import {
  createSessionService,
  JOB_KINDS,
  type SessionService,
} from '../sessions/session-service.js';
import type { Settings } from '../settings.js';
import { createServerApp } from './app.js';
import { createLiveFeed } from './dashboard/live-feed.js';
import { createSetupHandler } from './setup-mode.js';

export interface Orchestrator {
  url: string;
  server: Server;
  database: Database;
  queue: JobQueue;
  github: GitHubApp;
  sessionService: SessionService;
  /** The bearer token the JSON API takes (generated per run in development when unset). */
  apiToken: string | null;
  /** The embedded runner; null with RUNNER=off or in setup mode. */
  runner: RunnerHost | null;
  /** Stops accepting, finishes in-flight requests, releases job leases, closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  settings: Settings;
  log: Logger;
  handler?: DeliveryHandler;
  jobHandlers?: Record<string, JobHandler>;
  /** Where setup mode writes the registered app's credentials (default `.env` in the cwd). */
  envFile?: string;
  /** Tests turn off Probot's spacing of content-creating calls; production keeps it. */
  githubThrottle?: boolean;
  /** Test overrides for the embedded runner. */
  runnerOptions?: Partial<Pick<RunnerHostOptions, 'env' | 'pollMs' | 'runtime'>>;
}

/** Opens the database, applies migrations and serves HTTP; runs jobs unless RUNNER=off. */
export async function startOrchestrator({
  settings,
  log,
  handler,
  jobHandlers = {},
  envFile = path.resolve('.env'),
  githubThrottle = true,
  runnerOptions = {},
}: StartOptions): Promise<Orchestrator> {
  const operatorConfig = loadOperatorConfig(settings.orchestratorConfig);
  const database = await createDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
  try {
    await runMigrations(database);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  // This instance's own registry: several orchestrators in one process count apart.
  const metrics = createMetrics();
  const github = createGitHubApp(settings, log, { throttle: githubThrottle, metrics });
  const queue = createJobQueue({ db: database.db });
  const sessionService = createSessionService({ queue });
  // Without app credentials nothing can act on a delivery; it is still recorded.
  const deliveryHandler =
    handler ?? (github.probot ? createWebhookHandler({ sessionService }) : recordOnly);
  // In development without API_TOKEN, a token for this run; in production the API stays shut.
  const apiToken =
    settings.apiToken ?? (settings.production ? null : randomBytes(24).toString('hex'));
  // One poller for every live dashboard page of this process; it runs only while one is open.
  const liveFeed = createLiveFeed({ database, log });
  const app = createServerApp({
    database,
    verify: github.verify,
    handler: deliveryHandler,
    log,
    metrics,
    api: { sessionService, apiToken },
    dashboard: { liveFeed, githubUrl: githubWebUrl(settings) },
  });

  const setup = github.probot
    ? null
    : await createSetupHandler({
        host: settings.host,
        port: settings.port,
        log,
        envFile,
        publicUrl: settings.publicUrl,
      });
  const hono = getRequestListener(app.fetch);
  const server = createServer((req, res) => {
    if (!setup) return void hono(req, res);
    void setup(req, res).then(
      (handled) => {
        if (!handled) void hono(req, res);
      },
      (error) => {
        log.error({ err: error }, 'setup request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${settings.host === '0.0.0.0' ? 'localhost' : settings.host}:${port}`;

  // Lifecycle jobs (intents, reactions, status comments, notifications) run in every process
  // that has the app's credentials; agent turns only where RUNNER=embedded.
  const probot = github.probot;
  const lifecycle = probot
    ? createLifecycle({
        database,
        sessionService,
        octokitFor: (installationId) => probot.auth(installationId) as Promise<Octokit>,
        operatorConfig,
        log,
        publicUrl: settings.publicUrl,
      })
    : null;
  // Deliveries GitHub failed to hand over while this app was down: asked for again.
  const recovery = probot
    ? createDeliveryRecovery({ database, appOctokit: () => probot.auth() as Promise<Octokit>, log })
    : null;
  recovery?.start();
  // Two lanes: status comments and notifications wait on GitHub's one-write-a-second spacing,
  // so they must not take the slots of the next webhook's intent.
  const workers: Worker[] = [];
  const handlers = { ...lifecycle?.handlers, ...jobHandlers };
  if (Object.keys(handlers).length > 0) {
    workers.push(createWorker({ database, queue, handlers, log, concurrency: 4 }));
  }
  if (lifecycle) {
    workers.push(
      createWorker({
        database,
        queue,
        handlers: lifecycle.reportHandlers,
        onePerSession: [JOB_KINDS.statusComment],
        log,
        workerId: `reports:${randomUUID().slice(0, 8)}`,
        concurrency: 4,
      }),
    );
  }
  for (const worker of workers) await worker.start();

  let runner: RunnerHost | null = null;
  if (settings.runner === 'embedded' && github.probot) {
    try {
      runner = await startRunnerHost({
        database,
        queue,
        github: createInstallationClient(github.probot),
        operatorConfig,
        dataDir: settings.dataDir,
        workspaceRoot: settings.workspaceRoot,
        workspaceCheckout: settings.workspaceCheckout,
        maxSessions: settings.maxSessions,
        log,
        metrics,
        ...runnerOptions,
      });
    } catch (error) {
      // A runner that cannot start (e.g. WORKSPACE_CHECKOUT=overlay where mounting is not
      // allowed) leaves nothing running behind it, so the process exits with its message.
      server.close();
      server.closeAllConnections();
      liveFeed.close();
      await recovery?.stop();
      await Promise.all(workers.map((worker) => worker.stop()));
      await database.close();
      throw error;
    }
  }

  log.info(
    { url, database: database.kind, runner: settings.runner, setupMode: !github.probot },
    'agent orchestrator listening',
  );
  if (apiToken && !settings.apiToken) {
    log.info(
      { apiToken, loginUrl: `${url}/login?token=${apiToken}` },
      `API_TOKEN is not set: for this run the API takes "Authorization: Bearer ${apiToken}"; open the dashboard at ${url}/login?token=${apiToken}`,
    );
  }
  if (!github.probot) {
    log.info(
      `Setup mode: open ${url}/probot to register the GitHub App (no APP_ID/PRIVATE_KEY yet)`,
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    database,
    queue,
    github,
    sessionService,
    apiToken,
    runner,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Keep-alive sockets go idle as their last response is sent; close each as it does.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.closeIdleConnections();
        liveFeed.close(); // ends the dashboard's event streams, which never go idle
        await stopped;
        clearInterval(sweep);
        await recovery?.stop();
        await Promise.all(workers.map((worker) => worker.stop()));
        await runner?.stop();
        await database.close();
        log.info('agent orchestrator stopped');
      })();
      return closing;
    },
  };
}

/** GitHub's web address: github.com, or the Enterprise Server host. */
function githubWebUrl(settings: Settings): string {
  return settings.github.host
    ? `${settings.github.protocol}://${settings.github.host}`
    : 'https://github.com';
}
