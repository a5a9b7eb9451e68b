import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from './build.js';

/** One JSON log line of the server (pino). */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The server as a child process of its own group, with its JSON log lines. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  logs(): LogLine[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signals the whole process group (the server and any git it runs; agents have their own). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL if it is not gone in 15 s. */
  stop(): Promise<void>;
}

/**
 * Runs what `npm start` runs once its prestart build is done: `node dist/cli.js start` (ensureBuilt
 * did the build). Not `npm start --ignore-scripts`: npm would put itself and a shell between the test
 * and the server, and a SIGKILL meant for the server would land on npm first.
 */
export function spawnServer(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  // detached: the server leads its own process group, so a test can kill all of it at once.
  const child = spawn(process.execPath, [CLI, 'start'], {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines: LogLine[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    partial += text;
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line (e.g. a configuration error on stderr): kept in output()
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid!;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill('SIGKILL');
      reject(new Error(`the server did not start in 60 s; output:\n${output}`));
    }, 60_000);
    const check = setInterval(() => {
      const listening = lines.find((l) => l.msg === 'agent orchestrator listening');
      if (!listening) return;
      clearInterval(check);
      clearTimeout(timer);
      resolve({
        child,
        pid,
        url: String(listening.url),
        logs: () => lines,
        output: () => output,
        exited,
        kill,
        async stop() {
          kill('SIGTERM');
          const gone = await Promise.race([exited.then(() => true), sleep(15_000, false)]);
          if (!gone) kill('SIGKILL');
          await exited;
          kill('SIGKILL'); // anything of its group left behind (a git it ran)
        },
      });
    }, 50);
    void exited.then(() => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`the server exited before listening; output:\n${output}`));
    });
  });
}
