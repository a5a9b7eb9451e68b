import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import type { NodeHandler } from '../server/setup-mode.js';

/**
 * The HTTP server: the Hono app, behind setup mode's pages when there are no app credentials.
 * Resolves once it listens, with the address people reach it at.
 */
export async function listen(
  app: Hono,
  setup: NodeHandler | null,
  { host, port, log }: { host: string; port: number; log: Logger },
): Promise<{ server: Server; url: string }> {
  const hono = getRequestListener(app.fetch);
  const server = createServer((req, res) => {
    if (!setup) return void hono(req, res);
    void setup(req, res).then(
      (handled) => {
        if (!handled) void hono(req, res);
      },
      (error) => {
        log.error({ err: error }, 'setup request failed');
        if (!res.headersSent) res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return { server, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}` };
}
