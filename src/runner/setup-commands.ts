import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

export interface SetupFailure {
  command: string;
  exitCode: number | null;
  timedOut: boolean;
}

/**
 * Runs the repository's setup commands in order in the checkout, each under a time limit, output
 * appended to the log. They are the repository's own shell commands, so each runs as
 * `bash -c <command>`, in the session's sandbox (`wrap`), in its own process group, which a
 * time-out kills whole.
 */
export async function runSetupCommands(input: {
  commands: readonly string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The argv that runs a command in the session's sandbox (the argv itself without one). */
  wrap?: (argv: string[]) => Promise<string[]>;
}): Promise<SetupFailure | null> {
  for (const command of input.commands) {
    const fd = openSync(input.logFile, 'a');
    writeSync(fd, `$ ${command}\n`);
    try {
      const argv = ['bash', '-c', command];
      const result = await runOne(input.wrap ? await input.wrap(argv) : argv, fd, input);
      if (result.exitCode !== 0) return { command, ...result };
    } finally {
      closeSync(fd);
    }
  }
  return null;
}

function runOne(
  argv: string[],
  fd: number,
  {
    cwd,
    env,
    timeoutMs,
    signal,
  }: { cwd: string; env: Record<string, string>; timeoutMs: number; signal?: AbortSignal },
): Promise<{ exitCode: number | null; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = () => killGroup();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      killGroup(); // anything the command left running in the background
      resolve({ exitCode: timedOut ? null : code, timedOut });
    });
  });
}
