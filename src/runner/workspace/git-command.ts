/**
 * Runs git with an argument array (never a shell) and an environment of its own, not the app's:
 * no secret of the app and no GIT_* variable pointing it at another repository, a HOME that holds
 * nothing, no system or global config (nothing in the app user's ~/.gitconfig can redirect a push
 * or run a program). Settings go through GIT_CONFIG_COUNT, so none of them, a token least of all,
 * is on a command line any process can read. Two of them keep configuration written by an agent
 * (the worktrees share their mirror's config) from running code: no hooks, no fsmonitor.
 */

import { execFile } from 'node:child_process';

const ALWAYS = ['core.hooksPath=/dev/null', 'core.fsmonitor=false'];

/** git's HOME: a path that is no folder, so nothing (a config, a .netrc) can ever be found there. */
export const GIT_HOME = '/dev/null';

// What the operator's network may need of the app's environment to reach GitHub: a proxy, CAs.
const NETWORK_VARIABLES = [
  'https_proxy',
  'HTTPS_PROXY',
  'http_proxy',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
];

export interface GitOptions {
  cwd: string;
  /** Extra `key=value` settings for this command only, given in its environment (never argv). */
  config?: readonly string[];
  /** Strings blanked out of anything this command reports (tokens and what encodes them). */
  secrets?: readonly string[];
  /** Exit codes that are answers rather than failures (1 for `diff --quiet`, `rev-parse --verify`). */
  okExitCodes?: readonly number[];
  /** Variables set for this command only, on top of its minimal environment (GIT_INDEX_FILE). */
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

/** The whole environment a git command runs with: nothing of the app's beyond PATH and network. */
export function gitEnvironment(
  options: Pick<GitOptions, 'config' | 'env' | 'ceilings'>,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: GIT_HOME,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  for (const name of NETWORK_VARIABLES) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  if (options.ceilings) env.GIT_CEILING_DIRECTORIES = options.ceilings.join(':');
  const settings = [...ALWAYS, ...(options.config ?? [])];
  env.GIT_CONFIG_COUNT = String(settings.length);
  settings.forEach((setting, i) => {
    const at = setting.indexOf('=');
    env[`GIT_CONFIG_KEY_${i}`] = at < 0 ? setting : setting.slice(0, at);
    env[`GIT_CONFIG_VALUE_${i}`] = at < 0 ? 'true' : setting.slice(at + 1);
  });
  return Object.assign(env, options.env);
}

export function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const env = gitEnvironment(options);
  const secrets = options.secrets ?? [];
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...args],
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
