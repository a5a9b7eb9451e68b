import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const TSX = import.meta.resolve('tsx');

/** `node --import tsx <script> ...args` (script relative to bench/support/). */
function spawnScript(script: string, args: string[], env: Record<string, string> = {}) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  return spawn(process.execPath, ['--import', TSX, file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a script to its end and returns its stdout; rejects with its stderr when it fails. */
export async function runScript(script: string, args: string[]): Promise<string> {
  const child = spawnScript(script, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${script} exited with ${code}:\n${stderr}`);
  return stdout;
}

export interface ScriptProcess {
  child: ChildProcess;
  /** The first line it printed. */
  firstLine: string;
  stop(): Promise<void>;
}

/** Starts a long-running script and waits for its first line of output. */
export async function startScript(script: string, args: string[] = []): Promise<ScriptProcess> {
  const child = spawnScript(script, args);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit');
  const firstLine = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    void exited.then(() => reject(new Error(`${script} exited before it was ready:\n${stderr}`)));
  });
  child.stdout!.resume();
  return {
    child,
    firstLine,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
