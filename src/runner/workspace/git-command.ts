/**
 * Runs git with an argument array (never a shell), an environment free of variables that would
 * point it at another repository, and overrides that keep configuration written by an agent (the
 * worktrees share their mirror's config) from running code: no hooks, no fsmonitor.
 */

import { execFile } from 'node:child_process';

const ALWAYS = ['core.hooksPath=/dev/null', 'core.fsmonitor=false'];

// Variables git itself clears before running a command in another repository, plus identity
// overrides (the mirror's config names the author).
const INHERITED_GIT_VARIABLES =
  /^GIT_(DIR|WORK_TREE|IMPLICIT_WORK_TREE|COMMON_DIR|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|CONFIG|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_\d+|CONFIG_VALUE_\d+|GRAFT_FILE|NO_REPLACE_OBJECTS|REPLACE_REF_BASE|PREFIX|INTERNAL_SUPER_PREFIX|SHALLOW_FILE|NAMESPACE|CEILING_DIRECTORIES|AUTHOR_\w+|COMMITTER_\w+)$/;

export interface GitOptions {
  cwd: string;
  /** Extra `key=value` settings passed as `-c` for this command only. */
  config?: readonly string[];
  /** Strings blanked out of anything this command reports (tokens and what encodes them). */
  secrets?: readonly string[];
  /** Exit codes that are answers rather than failures (1 for `diff --quiet`, `rev-parse --verify`). */
  okExitCodes?: readonly number[];
  /** Variables set for this command only, after the inherited ones are cleaned (GIT_INDEX_FILE). */
  env?: Record<string, string>;
  /** git, looking for the repository upwards from cwd, stops before these folders. */
  ceilings?: readonly string[];
  timeoutMs?: number;
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A git command that failed; its arguments and output are already redacted. */
export class GitCommandError extends Error {
  override name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(
      `git ${args[0] ?? ''} failed (${exitCode === null ? 'no exit code' : `exit ${exitCode}`}): ${output}`,
    );
  }

  /** git's own explanation (its `fatal:`/`error:` lines), or the last line it printed. */
  get reason(): string {
    const lines = this.output
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    const explained = lines.filter((line) => /^(fatal|error|remote: error|!)/.test(line));
    return (explained.length > 0 ? explained : lines.slice(-1)).join('; ') || this.message;
  }
}

export function redact(text: string, secrets: readonly string[] = []): string {
  let result = text;
  for (const secret of secrets) if (secret) result = result.split(secret).join('[redacted]');
  return result
    .replace(/(authorization:\s*\w+\s+)\S+/gi, '$1[redacted]')
    .replace(/(\/\/[^/@\s:]*:)[^/@\s]+@/g, '$1[redacted]@');
}

export function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const settings = [...ALWAYS, ...(options.config ?? [])].flatMap((setting) => ['-c', setting]);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!INHERITED_GIT_VARIABLES.test(key)) env[key] = value;
  }
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  if (options.ceilings) env.GIT_CEILING_DIRECTORIES = options.ceilings.join(':');
  Object.assign(env, options.env);
  const secrets = options.secrets ?? [];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...settings, ...args],
      {
        cwd: options.cwd,
        env,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 0,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        if (exitCode === 0 || (exitCode !== null && options.okExitCodes?.includes(exitCode))) {
          const clean = (text: string) => (secrets.length > 0 ? redact(text, secrets) : text);
          resolve({ stdout: clean(stdout), stderr: clean(stderr), exitCode });
          return;
        }
        // The child_process error itself is never passed on: its message holds the command line.
        const why =
          error?.killed && error.signal === 'SIGKILL' && options.timeoutMs
            ? `timed out after ${options.timeoutMs} ms`
            : typeof error?.code === 'string'
              ? `could not start git (${error.code})`
              : error?.signal
                ? `killed by ${error.signal}`
                : '';
        const output = [stderr.trim(), stdout.trim(), why].filter(Boolean).join('\n');
        reject(
          new GitCommandError(
            args.map((arg) => redact(arg, secrets)),
            exitCode,
            redact(output.slice(-4000), secrets),
          ),
        );
      },
    );
  });
}
