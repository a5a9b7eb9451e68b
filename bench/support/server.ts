import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../test/helpers/processes.js';

export const DIST_CLI = path.join(REPO_ROOT, 'dist/cli.js');

/** The newest modification time of any file under dir (ms). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

let built: Promise<void> | undefined;

/** Compiles src/ to dist/ when dist/cli.js is missing or older than any source file. */
export function ensureBuilt(log: (message: string) => void): Promise<void> {
  built ??= (async () => {
    let distTime = 0;
    try {
      distTime = statSync(DIST_CLI).mtimeMs;
    } catch {}
    if (distTime > newestMtime(path.join(REPO_ROOT, 'src'))) return;
    log('dist/ is stale: building (npm run build)');
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        { cwd: REPO_ROOT },
        (error, stdout) => {
          // tsc still emits when other files have type errors; a missing dist/cli.js is fatal.
          if (error) log(`the build reported errors (continuing with what it emitted):\n${stdout}`);
          try {
            statSync(DIST_CLI);
            resolve();
          } catch {
            reject(new Error(`the build did not produce ${DIST_CLI}:\n${stdout}`));
          }
        },
      );
    });
  })();
  return built;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resident memory of the process now, in kilobytes (from /proc). */
  rssKb(): number;
  /** The most resident memory the process has had (VmHWM), in kilobytes. */
  peakKb(): number;
  logFile: string;
  /** SIGTERM, then SIGKILL if it has not exited within timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts a child process serving HTTP on a free port (PORT is set) and waits until readyPath
 * answers 200. Its stdout and stderr go to logFile.
 */
export async function startChildServer(options: {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  readyPath: string;
  /** Method for the readiness probe (the floor answers POSTs only). */
  readyMethod?: 'GET' | 'POST';
  timeoutMs?: number;
  /** Called with the child's pid as soon as it is spawned, before it is ready. */
  onSpawn?: (pid: number) => void;
}): Promise<ChildServer> {
  const port = await freePort();
  const out = openSync(options.logFile, 'w');
  const child = spawn(process.execPath, options.argv, {
    cwd: options.cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      LANG: 'C.UTF-8',
      ...options.env,
      PORT: String(port),
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  options.onSpawn?.(child.pid!);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (gone) {
      throw new Error(
        `${options.argv.join(' ')} exited before it was ready; its log:\n${tail(options.logFile)}`,
      );
    }
    const ok = await fetch(`${url}${options.readyPath}`, { method: options.readyMethod ?? 'GET' })
      .then((res) => res.status < 500)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.argv.join(' ')} was not ready in time:\n${tail(options.logFile)}`);
    }
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    child,
    logFile: options.logFile,
    rssKb: () => rssKb(child.pid!),
    peakKb: () => statusKb(child.pid!, 'VmHWM'),
    async stop(timeoutMs = 40_000) {
      if (gone) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => false), sleep(timeoutMs, true)]);
      if (killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** VmRSS of a process in kilobytes; NaN when it cannot be read. */
export function rssKb(pid: number): number {
  return statusKb(pid, 'VmRSS');
}

/** A memory figure of /proc/<pid>/status in kilobytes; NaN when it cannot be read. */
export function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
