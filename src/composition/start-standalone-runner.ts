import type { Logger } from 'pino';
import { createDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createGitHubApp } from '../github/app.js';
import { createJobQueue } from '../jobs/queue.js';
import { loadOperatorConfig } from '../operator-config.js';
import { startRunnerHost } from '../runner/runner-host.js';
import { createSessionService } from '../sessions/session-service.js';
import { type Settings, SettingsError } from '../settings.js';
import { runnerOptions } from './runner-options.js';

/** `agent-orchestrator runner`: a runner host alone, claiming jobs from the shared Postgres. */
export async function startStandaloneRunner(settings: Settings, log: Logger) {
  if (!settings.databaseUrl) {
    throw new SettingsError(
      'DATABASE_URL',
      'a standalone runner shares Postgres with the app; set it to the same URL (PGlite cannot be shared)',
    );
  }
  const { probot } = createGitHubApp(settings, log);
  if (!probot) {
    throw new SettingsError(
      'APP_ID',
      'a runner needs the app credentials (APP_ID and PRIVATE_KEY) to push and open pull requests',
    );
  }
  const operatorConfig = loadOperatorConfig(settings.orchestratorConfig);
  const database = await createDatabase({ url: settings.databaseUrl });
  try {
    await runMigrations(database);
    const queue = createJobQueue({ db: database.db });
    const sessions = createSessionService({ db: database.db, queue, operator: operatorConfig });
    const host = await startRunnerHost(
      runnerOptions({ settings, database, queue, sessions, probot, operatorConfig, log }),
    );
    return {
      host,
      async close() {
        await host.stop();
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => {}); // a failed start leaves no pool open behind it
    throw error;
  }
}
