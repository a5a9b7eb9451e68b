import { startOrchestrator } from '../composition/start-orchestrator.js';
import { startStandaloneRunner } from '../composition/start-standalone-runner.js';
import { createDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { loadSettings, type Settings } from '../settings.js';
import { parseCommandArgs } from './args.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { configured, configuredAsync } from './configured.js';
import type { Io } from './io.js';
import { USAGE } from './usage.js';

/** `start`, `runner` and `migrate`: the long-running processes and the migration step. */
export async function serveCommand(
  command: 'start' | 'runner' | 'migrate',
  args: string[],
  io: Io,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE[command]);
  if (values.help) {
    io.out(USAGE[command]);
    return EXIT.ok;
  }
  if (positionals.length > 0)
    throw usageError(`Unexpected argument "${positionals[0]}".`, USAGE[command]);

  // Only `start` serves the webhook route; a runner or a migration checks no signature.
  const settings = configured(() =>
    loadSettings(io.env, { receivesWebhooks: command === 'start' }),
  );
  const log = createLogger(settings);
  try {
    return await serve(command, settings, log);
  } catch (error) {
    // A failed start closed what it opened; a handle some library still holds must not keep
    // the process (and whoever waits for it) for minutes.
    setTimeout(() => process.exit(), 2_000).unref();
    if (error instanceof CliError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CliError(
        `Cannot listen on ${settings.host}:${settings.port}: the port is in use by another process. Stop it, or set PORT (or HOST) to a free one.`,
        EXIT.failure,
        undefined,
        { cause: error },
      );
    // Logs go to stdout as JSON lines; so does the reason a server could not run.
    log.fatal({ err: error }, 'agent-orchestrator failed');
    return EXIT.failure;
  }
}

async function serve(
  command: 'start' | 'runner' | 'migrate',
  settings: Settings,
  log: ReturnType<typeof createLogger>,
): Promise<number> {
  if (command === 'migrate') {
    // The embedded database is refused while a server holds its folder (exit 73).
    const database = await configuredAsync(() =>
      createDatabase({ url: settings.databaseUrl, dataDir: settings.dataDir }),
    );
    try {
      await runMigrations(database);
      log.info({ database: database.kind }, 'migrations applied');
    } finally {
      await database.close();
    }
    return EXIT.ok;
  }

  const orchestrator = await configuredAsync<{ close(): Promise<void> }>(() =>
    command === 'runner'
      ? startStandaloneRunner(settings, log)
      : startOrchestrator({ settings, log }),
  );
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
  return EXIT.ok;
}
