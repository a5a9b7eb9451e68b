#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { CliError, EXIT } from './cli/cli-error.js';
import { type Io, processIo } from './cli/io.js';
import { mainUsage, USAGE } from './cli/usage.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

// Loaded when used: the session commands start fast without the server's modules.
const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  start: async (args, io) =>
    (await import('./cli/serve-command.js')).serveCommand('start', args, io),
  runner: async (args, io) =>
    (await import('./cli/serve-command.js')).serveCommand('runner', args, io),
  migrate: async (args, io) =>
    (await import('./cli/serve-command.js')).serveCommand('migrate', args, io),
  sessions: async (args, io) =>
    (await import('./cli/sessions-command.js')).sessionsCommand(args, io),
  redeliver: async (args, io) =>
    (await import('./cli/redeliver-command.js')).redeliverCommand(args, io),
  mcp: async (args, io) => (await import('./cli/mcp-command.js')).mcpCommand(args, io, version),
};

/** Dispatches to a command; exit codes are in cli/cli-error.ts (EXIT). */
async function main(argv: string[], io: Io): Promise<number> {
  const [command = 'start', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0];
    io.out(
      topic && Object.hasOwn(USAGE, topic)
        ? USAGE[topic as keyof typeof USAGE]
        : mainUsage(version),
    );
    return EXIT.ok;
  }
  if (command === '--version' || command === '-v') {
    io.out(version);
    return EXIT.ok;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    io.err(`Unknown command "${command}".\n\n${mainUsage(version)}`);
    return EXIT.usage;
  }
  // Settings may come from .env; a variable already in the environment wins.
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return await run(rest, io);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.err(error.usage ? `${error.message}\n\n${error.usage}` : error.message);
    return error.exitCode;
  }
}

main(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode ??= code;
  },
  (error: unknown) => {
    // Never on stdout: it may be an MCP client's JSON-RPC stream.
    process.stderr.write(`agent-orchestrator failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.failure;
  },
);
