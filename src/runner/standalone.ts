import type { Logger } from 'pino';
import { createDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createGitHubApp } from '../github/app.js';
import { createInstallationClient } from '../github/installation-client.js';
import { createJobQueue } from '../jobs/queue.js';
import { loadOperatorConfig } from '../operator-config.js';
import { type Settings, SettingsError } from '../settings.js';
import { startRunnerHost } from './runner-host.js';

/** `agent-orchestrator runner`: a runner host alone, claiming jobs from the shared Postgres. */
export async function startStandaloneRunner(settings: Settings, log: Logger) {
  if (!settings.databaseUrl) {
    throw new SettingsError(
      'DATABASE_URL',
      'a standalone runner shares Postgres with the app; set it to the same URL (PGlite cannot be shared)',
    );
  }
  const github = createGitHubApp(settings, log);
  if (!github.probot) {
    throw new SettingsError(
      'APP_ID',
      'a runner needs the app credentials (APP_ID and PRIVATE_KEY) to push and open pull requests',
    );
  }
  const operatorConfig = loadOperatorConfig(settings.orchestratorConfig);
  const database = await createDatabase({ url: settings.databaseUrl });
  await runMigrations(database);
  const host = await startRunnerHost({
    database,
    queue: createJobQueue({ db: database.db }),
    github: createInstallationClient(github.probot),
    operatorConfig,
    dataDir: settings.dataDir,
    workspaceRoot: settings.workspaceRoot,
    workspaceCheckout: settings.workspaceCheckout,
    maxSessions: settings.maxSessions,
    log,
  });
  return {
    host,
    async close() {
      await host.stop();
      await database.close();
    },
  };
}
