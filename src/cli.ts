#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import { createDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { createLogger } from './logger.js';
import { OperatorConfigError } from './operator-config.js';
import { startStandaloneRunner } from './runner/standalone.js';
import { startOrchestrator } from './server/start.js';
import { loadSettings, SettingsError } from './settings.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const usage = `agent-orchestrator ${version}

Usage: agent-orchestrator <command>

Commands:
  start      serve webhooks, the API and health checks, and run agents here (default)
  runner     run agents only, taking jobs from the shared Postgres at DATABASE_URL
  migrate    apply database migrations, then exit
  help       show this text

Settings come from the environment and from .env in the working directory; see README.md.`;

/** Exit codes: 0 done, 1 failed at run time, 2 bad usage, 78 bad configuration. */
async function main(argv: string[]): Promise<number> {
  const [command = 'start', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h' || rest.includes('--help')) {
    console.log(usage);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    console.log(version);
    return 0;
  }
  if (command !== 'start' && command !== 'migrate' && command !== 'runner') {
    console.error(`Unknown command "${command}".\n\n${usage}`);
    return 2;
  }

  if (existsSync('.env')) process.loadEnvFile('.env');
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(process.env);
  } catch (error) {
    if (error instanceof SettingsError) {
      console.error(`Configuration error: ${error.message}`);
      return 78;
    }
    throw error;
  }
  const log = createLogger(settings);

  if (command === 'migrate') {
    const database = await createDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir });
    try {
      await runMigrations(database);
      log.info({ database: database.kind }, 'migrations applied');
    } finally {
      await database.close();
    }
    return 0;
  }

  let orchestrator: { close(): Promise<void> };
  try {
    orchestrator =
      command === 'runner'
        ? await startStandaloneRunner(settings, log)
        : await startOrchestrator({ settings, log });
  } catch (error) {
    if (error instanceof SettingsError || error instanceof OperatorConfigError) {
      console.error(`Configuration error: ${error.message}`);
      return 78;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down: finishing in-flight requests');
      const force = setTimeout(() => {
        log.error('shutdown took longer than 30 s; exiting');
        process.exit(1);
      }, 30_000);
      force.unref();
      orchestrator.close().then(resolve, (error) => {
        log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode ??= code;
  },
  (error: unknown) => {
    pino().fatal({ err: error }, 'agent-orchestrator failed');
    process.exitCode = 1;
  },
);
