import type { Git } from './workspace-types.js';

/** The sha a ref points to, or null when it does not exist. */
export async function resolveRef(git: Git, cwd: string, ref: string): Promise<string | null> {
  const { stdout, exitCode } = await git(
    cwd,
    ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
    { okExitCodes: [1] },
  );
  return exitCode === 0 ? stdout.trim() : null;
}
