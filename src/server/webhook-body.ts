import type { BodyHold } from './body-budget.js';

/** What reading a body came to: its text, or why it was given up before the end. */
export type BodyRead = { text: string } | { refused: 'too-large' | 'over-budget' };

/**
 * The length a request declares, when it declares one it must keep: with `Transfer-Encoding` the
 * body is chunked and `Content-Length` means nothing (Node refuses requests carrying both).
 */
export function declaredLength(headers: Headers): number | undefined {
  if (headers.has('transfer-encoding')) return undefined;
  const value = headers.get('content-length')?.trim();
  return value && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/**
 * Reads a body as UTF-8 text, decoded as `Request.text()` decodes it, never holding more than
 * `max` bytes: each byte past the `held` already taken from `hold` is taken from it first. Chunks
 * are decoded as they come, so the raw bytes are not kept beside the text.
 */
export async function readBoundedText(
  body: ReadableStream<Uint8Array> | null,
  { max, hold, held }: { max: number; hold: BodyHold; held: number },
): Promise<BodyRead> {
  if (!body) return { text: '' };
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let size = 0;
  let taken = held;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) return { refused: 'too-large' };
      if (size > taken) {
        if (!hold.take(size - taken)) return { refused: 'over-budget' };
        taken = size;
      }
      parts.push(decoder.decode(value, { stream: true }));
    }
  } finally {
    // Not cancel(): on Node that destroys the socket before the refusal can be sent; what is
    // left is discarded after the answer (see refuse in webhook-route.ts).
    reader.releaseLock();
  }
  parts.push(decoder.decode());
  return { text: parts.join('') };
}
