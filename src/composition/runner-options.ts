import type { Logger } from 'pino';
import type { Probot } from 'probot';
import type { Database } from '../db/client.js';
import { createInstallationClient } from '../github/installation-client.js';
import type { JobQueue } from '../jobs/queue.js';
import type { JobMetrics, TurnMetrics } from '../metrics/metrics.js';
import type { OperatorConfig } from '../operator-config.js';
import type { RunnerHostOptions } from '../runner/runner-host.js';
import type { SessionService } from '../sessions/session-service.js';
import { githubGitHost, type Settings } from '../settings.js';
import { deadJobReports } from './dead-job-reports.js';

/** A runner host's options from the settings, embedded or standalone alike. */
export function runnerOptions(input: {
  settings: Settings;
  database: Database;
  queue: JobQueue;
  sessions: SessionService;
  probot: Probot;
  operatorConfig: OperatorConfig;
  log: Logger;
  metrics?: (TurnMetrics & JobMetrics) | undefined;
}): RunnerHostOptions {
  const { settings } = input;
  return {
    database: input.database,
    queue: input.queue,
    sessions: input.sessions,
    // The runner asks GitHub through its own narrow interface; the installation client is one.
    github: createInstallationClient(input.probot),
    githubHost: githubGitHost(settings),
    operatorConfig: input.operatorConfig,
    dataDir: settings.dataDir,
    workspaceRoot: settings.workspaceRoot,
    workspaceCheckout: settings.workspaceCheckout,
    sandbox: settings.sandbox,
    maxSessions: settings.maxSessions,
    log: input.log,
    metrics: input.metrics,
    onDeadJob: deadJobReports({
      db: input.database.db,
      sessions: input.sessions,
      metrics: input.metrics,
    }),
  };
}
