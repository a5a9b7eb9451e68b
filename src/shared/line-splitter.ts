/** The longest line handed out, in bytes (64 KB): the rest of a longer line is dropped. */
export const MAX_LINE_BYTES = 64 * 1024;

const NEWLINE = 0x0a;

export interface LineSplitter {
  /** Takes the next bytes; calls onLine for each line they complete. */
  push(chunk: Buffer): void;
  /** Bytes of the line not yet complete (its dropped bytes included). */
  readonly pendingBytes: number;
  /** Hands out the incomplete line as it is (when the writer is done) and starts afresh. */
  flush(): void;
  /** Forgets the incomplete line (the file was replaced). */
  reset(): void;
}

/**
 * Splits bytes into lines on '\n', each handed out without its newline along with the bytes it
 * took (newline included), so a caller can keep exact offsets. Linear in the input whatever the
 * line lengths: a line keeps at most maxLineBytes, and a longer one ends with
 * "… [N bytes cut]" in place of the bytes dropped.
 */
export function createLineSplitter(
  onLine: (line: string, bytes: number) => void,
  maxLineBytes = MAX_LINE_BYTES,
): LineSplitter {
  let kept: Buffer[] = [];
  let keptBytes = 0;
  let totalBytes = 0;

  const keep = (part: Buffer) => {
    totalBytes += part.length;
    const room = maxLineBytes - keptBytes;
    if (room <= 0 || part.length === 0) return;
    // A copy: the caller may reuse its buffer for the next read.
    const piece = Buffer.from(part.subarray(0, room));
    kept.push(piece);
    keptBytes += piece.length;
  };

  const emit = (newline: number) => {
    const text = Buffer.concat(kept, keptBytes).toString('utf8');
    const cut = totalBytes - keptBytes;
    const bytes = totalBytes + newline;
    kept = [];
    keptBytes = 0;
    totalBytes = 0;
    onLine(cut > 0 ? `${text}… [${cut} bytes cut]` : text, bytes);
  };

  return {
    push(chunk) {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
        if (totalBytes === 0) {
          // The common case, a whole line inside the chunk: no copy.
          const length = end - start;
          const line = chunk.subarray(start, start + Math.min(length, maxLineBytes));
          const cut = length - line.length;
          const text = line.toString('utf8');
          onLine(cut > 0 ? `${text}… [${cut} bytes cut]` : text, length + 1);
        } else {
          keep(chunk.subarray(start, end));
          emit(1);
        }
        start = end + 1;
      }
      keep(chunk.subarray(start));
    },
    get pendingBytes() {
      return totalBytes;
    },
    flush() {
      if (totalBytes > 0) emit(0);
    },
    reset() {
      kept = [];
      keptBytes = 0;
      totalBytes = 0;
    },
  };
}
