import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Turn } from '../../db/schema.js';
import { cleanLine } from './views/format.js';

/** Where a turn's output can be read from this process. */
export type OutputPlace =
  /** No turn has started yet. */
  | { kind: 'none' }
  /** The log is on this host (or will be as soon as the turn writes). */
  | { kind: 'here'; turn: Turn }
  /** The turn ran on another runner host: only its events (in the timeline) are here. */
  | { kind: 'elsewhere'; turn: Turn };

/**
 * The runner makes the turn's state folder before it starts the turn, so a missing folder
 * means the log lives on another host.
 */
export function outputPlace(turn: Turn | undefined): OutputPlace {
  if (!turn) return { kind: 'none' };
  return existsSync(dirname(turn.logPath)) ? { kind: 'here', turn } : { kind: 'elsewhere', turn };
}

export interface LogEnd {
  lines: string[];
  /** The byte offset just past the last complete line: where following it resumes. */
  offset: number;
}

const NEWLINE = 0x0a;

/**
 * The last complete lines of a log (at most maxLines, from at most its last maxBytes), cleaned
 * to show. A missing file has no lines yet.
 */
export async function readLogEnd(
  file: string,
  { maxBytes = 64 * 1024, maxLines = 200 }: { maxBytes?: number; maxLines?: number } = {},
): Promise<LogEnd> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], offset: 0 };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    const data = buffer.subarray(0, bytesRead);
    const lastNewline = data.lastIndexOf(NEWLINE);
    if (lastNewline === -1) return { lines: [], offset: start };
    // Reading from the middle of the file: the first line is cut, so it is left out.
    const firstLine = start === 0 ? 0 : data.indexOf(NEWLINE) + 1;
    const lines =
      firstLine > lastNewline
        ? []
        : data.toString('utf8', firstLine, lastNewline).split('\n').slice(-maxLines).map(cleanLine);
    return { lines, offset: start + lastNewline + 1 };
  } finally {
    await handle.close();
  }
}
