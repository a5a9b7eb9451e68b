import { spawn } from 'node:child_process';

/** The sandbox of a turn, as the brief for the egress proxy fixes it: no network but loopback. */
const BWRAP = [
  '--unshare-net',
  '--unshare-user',
  '--uid',
  '1000',
  '--gid',
  '1000',
  '--unshare-pid',
  '--die-with-parent',
  '--ro-bind',
  '/usr',
  '/usr',
  '--symlink',
  'usr/bin',
  '/bin',
  '--symlink',
  'usr/lib',
  '/lib',
  '--symlink',
  'usr/lib64',
  '/lib64',
  '--proc',
  '/proc',
  '--dev',
  '/dev',
  '--tmpfs',
  '/tmp',
];

export interface SandboxShell {
  /** Runs a shell command in the sandbox and returns its output (stdout and stderr) and status. */
  run(command: string): Promise<{ output: string; code: number }>;
  /** Resolves once a line of the sandbox's stdout equals `line`. */
  waitForLine(line: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A shell in a real bubblewrap sandbox with `bindDir` bound in, reading commands from the test, so
 * a forwarder started in the background and the curls after it share one network namespace.
 */
export function startSandboxShell(bindDir: string, env: Record<string, string>): SandboxShell {
  const child = spawn('/usr/bin/bwrap', [...BWRAP, '--bind', bindDir, bindDir, '/bin/sh', '-s'], {
    env: { PATH: '/usr/bin', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let cursor = 0;
  let commands = 0;
  const listeners = new Set<() => void>();
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  /** The first match of `pattern` in stdout after the cursor; rejects if the sandbox ends first. */
  function waitFor(pattern: RegExp, what: string, timeoutMs = 90_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error, match?: RegExpExecArray) => {
        listeners.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(match!);
      };
      const check = () => {
        pattern.lastIndex = cursor;
        const match = pattern.exec(stdout);
        if (match) finish(undefined, match);
      };
      const explain = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${what}; ${explain()}`)),
        timeoutMs,
      );
      void exited.then(() => {
        if (listeners.has(check))
          finish(new Error(`the sandbox ended before ${what}; ${explain()}`));
      });
      listeners.add(check);
      check();
    });
  }

  return {
    async run(command) {
      const id = ++commands;
      child.stdin.write(`${command} 2>&1; echo "@@${id}:$?"\n`);
      const match = await waitFor(new RegExp(`@@${id}:(\\d+)\\n`, 'g'), `command ${id} to end`);
      const output = stdout.slice(cursor, match.index);
      cursor = match.index + match[0].length;
      return { output, code: Number(match[1]) };
    },
    async waitForLine(line) {
      const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const match = await waitFor(new RegExp(`^${escaped}\\n`, 'gm'), JSON.stringify(line));
      cursor = match.index + match[0].length;
    },
    async stop() {
      child.stdin.end();
      const deadline = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(deadline);
    },
  };
}

/** A word for sh, quoted. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
