import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The absolute path of a program on the app's PATH. Turns run with the agent's environment,
 * whose PATH may lack the folder of bash or env, so the wrapper is started by absolute path.
 */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string {
  for (const dir of [...path.split(delimiter), '/usr/bin', '/bin']) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(`${name} was not found on PATH (${path})`);
}
