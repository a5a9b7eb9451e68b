import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/**
 * The address the request came from: the TCP peer as Node saw it (behind a reverse proxy, the
 * proxy's). Forwarded headers are not believed: anyone can write them.
 */
export function clientAddress(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const address = incoming?.socket?.remoteAddress;
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
