import { stat } from 'node:fs/promises';

/** Whether a file or folder is there (any error reading it counts as not). */
export function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
