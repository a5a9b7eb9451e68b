import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The full path of a program on the given PATH, or null: how a missing agent CLI is found. */
export function findBinary(binary: string, pathVariable: string | undefined): string | null {
  if (binary.includes('/')) return isExecutable(binary) ? binary : null;
  for (const dir of (pathVariable ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * The absolute path of a program on the app's PATH (or /usr/bin, /bin), or an error. Turns run
 * with the agent's environment, whose PATH may lack the folder of bash or env, so the runtimes
 * start their wrapper by absolute path.
 */
export function findExecutable(name: string, pathVariable = process.env.PATH ?? ''): string {
  const found = findBinary(name, [pathVariable, '/usr/bin', '/bin'].join(path.delimiter));
  if (!found) throw new Error(`${name} was not found on PATH (${pathVariable})`);
  return found;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
