import type { SSEStreamingApi } from 'hono/streaming';
import type { Logger } from 'pino';
import type { LiveChange, LiveFeed } from './live-feed.js';

/** Keeps proxies from closing a quiet stream. */
export const PING_MS = 15_000;

/** A stream's updates, run one at a time and in order; a failed one is logged, not fatal. */
export function updateChain(log: Logger, context: Record<string, unknown> = {}) {
  let chain = Promise.resolve();
  return {
    enqueue(work: () => Promise<void>) {
      chain = chain
        .then(work)
        .catch((error) => log.warn({ err: error, ...context }, 'dashboard stream update failed'));
    },
    /** Resolves once every update queued so far has run. */
    settled: () => chain,
  };
}

/**
 * Follows the live feed on a server-sent event stream until the page goes away or the feed
 * closes: tells the browser how soon to reconnect, pings through quiet times, and hands the
 * feed's ready and change callbacks to the stream's own handlers.
 */
export async function followLiveFeed(
  stream: SSEStreamingApi,
  liveFeed: LiveFeed,
  enqueue: (work: () => Promise<void>) => void,
  handlers: { onReady(): void; onChange(change: LiveChange): void },
): Promise<void> {
  await stream.write('retry: 3000\n\n');
  let unsubscribe = () => {};
  const ping = setInterval(() => enqueue(() => stream.write(': ping\n\n').then(() => {})), PING_MS);
  try {
    await new Promise<void>((resolve) => {
      if (stream.aborted) return resolve();
      stream.onAbort(resolve);
      unsubscribe = liveFeed.subscribe({ ...handlers, onClose: resolve });
    });
  } finally {
    clearInterval(ping);
    unsubscribe();
  }
}
