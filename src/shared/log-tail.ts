import { type FSWatcher, watch } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createLineSplitter } from './line-splitter.js';

export interface TailOptions {
  /** Stops following: what the file holds by then is still read and delivered. */
  signal: AbortSignal;
  /** The byte offset to start from (one returned by an earlier tail of the same file). */
  fromOffset?: number;
  /**
   * On stop, also deliver a last line that has no newline. Only once the writer is done: while
   * it runs, such a line may be incomplete, and it is then left for the next tail to read.
   */
  flushPartial?: boolean;
  /** The safety-net poll for when a file-system event is missed (1 s). */
  pollMs?: number;
}

/** A line without its newline, and the byte offset just past it (what to resume from). */
export type OnLine = (line: string, endOffset: number) => void;

const CHUNK = 64 * 1024;

/**
 * Follows a growing log file and calls onLine with each complete line as it arrives, in order,
 * whole however it was written. The file need not exist yet. Woken by fs.watch on the folder,
 * with a slow poll behind it. Resolves, once the signal is aborted and the rest of the file has
 * been delivered, with the byte offset read up to: the end of the last delivered line.
 * Lines are split on bytes, so offsets are exact whatever the encoding; a file found shorter
 * than the offset (truncated, replaced) is read again from the start. Linear in the file's size:
 * a line longer than 64 KB is handed out cut (`line-splitter.ts`), its offset still exact.
 */
export async function tailLines(
  file: string,
  onLine: OnLine,
  { signal, fromOffset = 0, flushPartial = false, pollMs = 1_000 }: TailOptions,
): Promise<number> {
  let offset = fromOffset;
  const lines = createLineSplitter((line, bytes) => {
    offset += bytes;
    onLine(line, offset);
  });

  const readToEnd = async () => {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size < offset + lines.pendingBytes) {
        offset = 0;
        lines.reset();
      }
      let position = offset + lines.pendingBytes;
      const buffer = Buffer.allocUnsafe(CHUNK);
      while (position < size) {
        const length = Math.min(CHUNK, size - position);
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        lines.push(buffer.subarray(0, bytesRead));
      }
    } finally {
      await handle.close();
    }
  };

  let dirty = true;
  let wakeUp: (() => void) | undefined;
  const wake = () => {
    dirty = true;
    wakeUp?.();
  };
  const changed = () =>
    new Promise<void>((resolve) => {
      if (dirty || signal.aborted) return resolve();
      wakeUp = resolve;
    }).finally(() => {
      wakeUp = undefined;
      dirty = false;
    });

  let watcher: FSWatcher | undefined;
  try {
    const name = basename(file);
    watcher = watch(dirname(file), (_event, changedName) => {
      if (!changedName || changedName === name) wake();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // The folder does not exist (yet): the poll alone notices the file.
  }
  const poll = setInterval(wake, pollMs);
  signal.addEventListener('abort', wake, { once: true });

  try {
    while (!signal.aborted) {
      await changed();
      await readToEnd();
    }
    await readToEnd();
    if (flushPartial) lines.flush();
    return offset;
  } finally {
    clearInterval(poll);
    watcher?.close();
    signal.removeEventListener('abort', wake);
  }
}
