import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { createDatabase, type Database } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createGitHubApp, type GitHubApp } from '../github/app.js';
import { type DeliveryHandler, recordOnly } from '../github/deliveries.js';
import { createDeliveryRecovery } from '../github/delivery-recovery.js';
import type { Octokit } from '../github/octokit.js';
import { createWebhookHandler } from '../github/webhook-handler.js';
import { createJobQueue, type JobQueue } from '../jobs/queue.js';
import type { JobHandler, Worker } from '../jobs/worker.js';
import { createMetrics } from '../metrics/metrics.js';
import { loadOperatorConfig } from '../operator-config.js';
import { createAdapterRegistry } from '../runner/adapters/index.js';
import { type RunnerHost, type RunnerHostOptions, startRunnerHost } from '../runner/runner-host.js';
import { createServerApp } from '../server/app.js';
import { createLiveFeed } from '../server/dashboard/live-feed.js';
import { createLoginCodes, LOGIN_CODE_TTL_MS } from '../server/dashboard/login-codes.js';
import { createSetupHandler } from '../server/setup-mode.js';
import { SETUP_CODE_PARAM } from '../server/setup-refusal.js';
import { createSessionService, type SessionService } from '../sessions/session-service.js';
import type { Settings } from '../settings.js';
import { deadJobReports } from './dead-job-reports.js';
import { listen } from './http-server.js';
import { createLifecycleWorkers } from './lifecycle-workers.js';
import { runnerOptions as embeddedRunnerOptions } from './runner-options.js';
import { createStartupResources, type StartupResources } from './startup-resources.js';

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
  /** A new one-time link that logs a browser in to the dashboard; null when the dashboard is off. */
  loginLink(): string | null;
  /** Setup mode's registration page with its one-time code; null outside setup mode. */
  setupUrl: string | null;
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

/**
 * Opens the database, applies migrations and serves HTTP; runs jobs unless RUNNER=off. When a
 * step fails (a port in use, a runner that cannot start) what it opened is closed before it throws.
 */
export async function startOrchestrator(options: StartOptions): Promise<Orchestrator> {
  const opened = createStartupResources(options.log);
  try {
    return await openAll(options, opened);
  } catch (error) {
    await opened.closeAll(error);
    throw error;
  }
}

async function openAll(
  {
    settings,
    log,
    handler,
    jobHandlers = {},
    envFile = path.resolve('.env'),
    githubThrottle = true,
    runnerOptions = {},
  }: StartOptions,
  opened: StartupResources,
): Promise<Orchestrator> {
  const operatorConfig = loadOperatorConfig(settings.orchestratorConfig);
  // The operator config validated each agent against the command schema when it was loaded.
  const adapterFor = createAdapterRegistry({ agents: operatorConfig.agents });
  const database = await createDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
  opened.add('database', () => database.close());
  await runMigrations(database);
  // This instance's own registry: several orchestrators in one process count apart.
  const metrics = createMetrics();
  const github = createGitHubApp(settings, log, { throttle: githubThrottle, metrics });
  const probot = github.probot;
  const queue = createJobQueue({ db: database.db });
  const sessionService = createSessionService({ db: database.db, queue, operator: operatorConfig });
  // Without app credentials nothing can act on a delivery; it is still recorded.
  const deliveryHandler = handler ?? (probot ? createWebhookHandler() : recordOnly);
  // In development without API_TOKEN, a token for this run; in production the API stays shut.
  const apiToken =
    settings.apiToken ?? (settings.production ? null : randomBytes(24).toString('hex'));
  // One poller for every live dashboard page of this process; it runs only while one is open.
  const liveFeed = createLiveFeed({ database, log });
  opened.add('live feed', () => liveFeed.close());
  const loginCodes = createLoginCodes();
  const app = createServerApp({
    database,
    verify: github.verify,
    handler: deliveryHandler,
    log,
    metrics,
    metricsToken: settings.metricsToken,
    api: { sessionService, apiToken },
    dashboard: { liveFeed, githubUrl: githubWebUrl(settings), loginCodes },
    limits: operatorConfig.limits,
  });
  const setup = probot
    ? null
    : await createSetupHandler({
        host: settings.host,
        port: settings.port,
        log,
        envFile,
        publicUrl: settings.publicUrl,
      });
  const { server, url } = await listen(app, setup?.handle ?? null, {
    host: settings.host,
    port: settings.port,
    log,
  });
  opened.add('server', () => {
    server.close();
    server.closeAllConnections();
  });

  // Lifecycle jobs run in every process that has the app's credentials; agent turns only
  // where RUNNER=embedded. Deliveries GitHub failed to hand over while down are asked for again.
  const recovery = probot
    ? createDeliveryRecovery({ database, appOctokit: () => probot.auth() as Promise<Octokit>, log })
    : null;
  recovery?.start();
  opened.add('delivery recovery', () => recovery?.stop());
  const workers: Worker[] = createLifecycleWorkers({
    database,
    queue,
    sessions: sessionService,
    probot,
    operatorConfig,
    isAgent: (name) => adapterFor(name) !== undefined,
    log,
    publicUrl: settings.publicUrl,
    extraHandlers: jobHandlers,
    onDeadJob: deadJobReports({ db: database.db, sessions: sessionService, metrics }),
  });
  for (const worker of workers) {
    opened.add('worker', () => worker.stop({ graceMs: 1_000 }));
    await worker.start();
  }

  let runner: RunnerHost | null = null;
  if (settings.runner === 'embedded' && probot) {
    // A runner that cannot start (e.g. WORKSPACE_CHECKOUT=overlay where mounting is not
    // allowed) throws; what was opened above is closed, so the process exits with its message.
    runner = await startRunnerHost({
      ...embeddedRunnerOptions({
        settings,
        database,
        queue,
        sessions: sessionService,
        probot,
        operatorConfig,
        log,
        metrics,
      }),
      adapterFor,
      ...runnerOptions,
    });
  }

  log.info(
    { url, database: database.kind, runner: settings.runner, setupMode: !probot },
    'agent orchestrator listening',
  );
  const loginLink = () => (apiToken ? `${url}/login?code=${loginCodes.issue()}` : null);
  if (apiToken && !settings.apiToken) {
    // The link carries a one-time code, not the token: a link lands in histories and logs.
    const loginUrl = loginLink()!;
    const minutes = LOGIN_CODE_TTL_MS / 60_000;
    log.info(
      { apiToken, loginUrl },
      `API_TOKEN is not set: for this run the API takes "Authorization: Bearer ${apiToken}"; open the dashboard at ${loginUrl} (a one-time link for the next ${minutes} minutes; after that, log in with the token)`,
    );
  }
  const setupUrl = setup ? `${url}/probot?${SETUP_CODE_PARAM}=${setup.code}` : null;
  if (setup) {
    const localOnly = ['127.0.0.1', 'localhost', '::1'].includes(settings.host)
      ? ` Only this machine can reach it (HOST=${settings.host}); set HOST to open it to others.`
      : '';
    log.info(
      { setupUrl },
      `Setup mode: open ${setupUrl} to register the GitHub App (no APP_ID/PRIVATE_KEY yet). If a page asks for the one-time code, it is ${setup.code}; it writes .env once.${localOnly}`,
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
    loginLink,
    setupUrl,
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
