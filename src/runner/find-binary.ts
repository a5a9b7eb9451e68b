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

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
