/**
 * The floor for benchmark 1: a bare Probot app whose only handler does nothing, served by
 * Probot's own Node middleware on PORT. Same verification (X-Hub-Signature-256) as the app,
 * none of its work (no database, no jobs).
 * Usage: PORT=... WEBHOOK_SECRET=... node --import tsx bench/support/floor-server.ts
 */
import { createServer } from 'node:http';
import { pino } from 'pino';
import { createNodeMiddleware, Probot } from 'probot';
import { generatePrivateKey } from '../../test/helpers/processes.js';

const probot = new Probot({
  appId: 1,
  privateKey: generatePrivateKey(),
  secret: process.env.WEBHOOK_SECRET ?? 'development',
  log: pino({ level: process.env.LOG_LEVEL ?? 'info' }),
});
const middleware = await createNodeMiddleware(
  (app) => {
    app.onAny(async () => {});
  },
  { probot },
);
const server = createServer((req, res) => {
  void middleware(req, res, () => {
    res.writeHead(404).end();
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
