import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** One run of `git` as the shim saw it: its arguments, its whole environment, its folder. */
export interface GitCall {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** The command line of the process that started it (the server's, an agent's...). */
  parent: string;
}

/**
 * A `git` that records each run's argv and environment, then execs the real git: put its `dir`
 * first on PATH and every git command started by name goes through it. (git's own helpers, such
 * as git-remote-http, are started from its exec path; `watchCommandLines` sees those.)
 */
export async function createGitShim() {
  const root = mkdtempSync(path.join(tmpdir(), 'git-shim-'));
  const dir = path.join(root, 'bin');
  const log = path.join(root, 'calls');
  mkdirSync(dir);
  mkdirSync(log);
  const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const shim = path.join(dir, 'git');
  await writeFile(
    shim,
    [
      '#!/bin/sh',
      `id="$$.$(date +%s%N)"`,
      `printf '%s\\0' "$@" > '${log}/'"$id.argv"`,
      `env -0 > '${log}/'"$id.env"`,
      `pwd -P > '${log}/'"$id.cwd"`,
      `tr '\\0' ' ' < /proc/$PPID/cmdline > '${log}/'"$id.parent"`,
      `exec '${real}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(shim, 0o755);
  return {
    dir,
    /** Every run recorded so far (of those started in a folder under `under`, if given). */
    calls(under?: string): GitCall[] {
      const real = under ? realpathSync(under) : '';
      return readdirSync(log)
        .filter((file) => file.endsWith('.argv'))
        .map((file) => {
          const base = path.join(log, file.slice(0, -'.argv'.length));
          const fields = (name: string) =>
            readFileSync(`${base}.${name}`, 'utf8').split('\0').slice(0, -1);
          const env = Object.fromEntries(
            fields('env').map((entry) => [
              entry.slice(0, entry.indexOf('=')),
              entry.slice(entry.indexOf('=') + 1),
            ]),
          );
          const cwd = readFileSync(`${base}.cwd`, 'utf8').trim();
          const parent = readFileSync(`${base}.parent`, 'utf8').trim();
          return { argv: fields('argv'), env, cwd, parent };
        })
        .filter((call) => !real || call.cwd === real || call.cwd.startsWith(`${real}/`));
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Reads every process's command line (/proc/<pid>/cmdline) every few milliseconds until stopped,
 * keeping the distinct ones seen: what any process on the machine could read of a git command.
 */
export function watchCommandLines(intervalMs = 5) {
  const seen = new Set<string>();
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const line = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        if (line) seen.add(line);
      } catch {
        // gone already
      }
    }
  }, intervalMs);
  return {
    seen,
    stop: () => clearInterval(timer),
  };
}
