import { execFile } from 'node:child_process';
import path from 'node:path';
import type { CheckoutLayers } from '../sandbox/sandbox.js';
import { GitCommandError } from './git-command.js';
import type { OwnCheckoutDeps } from './own-checkout-deps.js';
import type { GitIdentity } from './workspace-types.js';

/** The variables git gets in the sandbox: nothing of the app's environment. */
function sandboxEnv(checkout: string, identity: GitIdentity): string[] {
  return [
    'PATH=/usr/local/bin:/usr/bin:/bin',
    `HOME=${checkout}`,
    'LC_ALL=C',
    'GIT_TERMINAL_PROMPT=0',
    'GIT_CONFIG_NOSYSTEM=1',
    'GIT_CONFIG_GLOBAL=/dev/null',
    `GIT_AUTHOR_NAME=${identity.name}`,
    `GIT_AUTHOR_EMAIL=${identity.email}`,
    `GIT_COMMITTER_NAME=${identity.name}`,
    `GIT_COMMITTER_EMAIL=${identity.email}`,
  ];
}

/** Where a session's checkout is: its folder, the mirror it borrows from, its overlay layers. */
export interface CheckoutPlace {
  checkout: string;
  mirror: string;
  layers?: CheckoutLayers | undefined;
}

/** The argv that runs `argv` in a session's checkout, in its sandbox, with a clean environment. */
export function inCheckoutSandbox(
  deps: OwnCheckoutDeps,
  { checkout, mirror, layers }: CheckoutPlace,
  argv: readonly string[],
  identity: GitIdentity,
): string[] {
  return deps.sandbox.command(
    { workdir: checkout, layers, home: checkout, readOnly: [path.join(mirror, 'objects')] },
    ['env', '-i', ...sandboxEnv(checkout, identity), ...argv],
    checkout,
  );
}

/**
 * Runs a shell script in the session's checkout, inside its sandbox (so whatever filters, hooks or
 * config the agent planted run with the agent's authority, not the runner's); its stdout.
 */
export function runInCheckout(
  deps: OwnCheckoutDeps,
  input: CheckoutPlace & {
    script: string;
    args: readonly string[];
    identity: GitIdentity;
    timeoutMs?: number;
  },
): Promise<string> {
  const argv = inCheckoutSandbox(
    deps,
    input,
    ['bash', '-c', input.script, 'in-checkout', ...input.args],
    input.identity,
  );
  return runSandboxed(argv, input.checkout, input.timeoutMs ?? 600_000);
}

/** Runs a sandbox's argv; its stdout, or a GitCommandError with the end of what it printed. */
export function runSandboxed(
  argv: readonly string[],
  cwd: string,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { cwd, encoding: 'utf8', timeout: timeoutMs },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = typeof error.code === 'number' ? error.code : null;
        reject(new GitCommandError(['(in the sandbox)'], code, `${stderr}${stdout}`.slice(-4000)));
      },
    );
  });
}
