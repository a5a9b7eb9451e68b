import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TurnSpec } from './runtime.js';

/** Creates the turn's folders and clears an exit file left by an earlier use of its name. */
export async function prepareTurnFiles(spec: TurnSpec): Promise<void> {
  await mkdir(dirname(spec.logFile), { recursive: true });
  await mkdir(dirname(spec.exitFile), { recursive: true });
  await rm(spec.exitFile, { force: true });
}

/**
 * The exit status the wrapper recorded: undefined when there is no exit file (yet), null when
 * it holds no number.
 */
export async function readExitFile(file: string): Promise<number | null | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const code = Number.parseInt(text.trim(), 10);
  return Number.isInteger(code) ? code : null;
}
