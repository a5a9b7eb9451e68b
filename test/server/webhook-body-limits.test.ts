import type { Server } from 'node:http';
import { Webhooks } from '@octokit/webhooks';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/composition/http-server.js';
import { deliveries } from '../../src/db/schema.js';
import { recordOnly } from '../../src/github/deliveries.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createServerApp } from '../../src/server/app.js';
import { type BodyBudget, createBodyBudget } from '../../src/server/body-budget.js';
import { MAX_WEBHOOK_BYTES, WEBHOOK_PATH } from '../../src/server/webhook-route.js';
import { openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { rawRequest } from '../helpers/raw-http.js';
import { until } from '../helpers/until.js';
import { deliveryHeaders, examplePayload } from '../helpers/webhooks.js';

const secret = 'test-secret';
const webhooks = new Webhooks({ secret });
const log = pino({ level: 'silent' });
const MB = 1024 * 1024;
/** Small, so a test fills it with a few hundred kilobytes. */
const BUDGET = MB;

/** Headers of a delivery whose signature is wrong. */
const unsigned = (length?: number) => ({
  ...deliveryHeaders('not-the-secret', 'issues', 'whatever'),
  ...(length === undefined
    ? { 'transfer-encoding': 'chunked' }
    : { 'content-length': `${length}` }),
});

/** A signed delivery padded to about `bytes`. */
function signedDelivery(bytes: number) {
  const padding = 'x'.repeat(Math.max(0, bytes - 20_000));
  const body = Buffer.from(JSON.stringify({ ...examplePayload('issues', 'opened'), padding }));
  return { body, headers: deliveryHeaders(secret, 'issues', body.toString()) };
}

// The real HTTP server the app runs behind (composition/http-server.ts), on a real socket.
describe('webhook bodies over real HTTP', () => {
  let t: TestDatabase;
  const servers: Server[] = [];
  /** The app as it runs, with the default 64 MB budget. */
  let url: string;
  /** The app with a 1 MB budget: `budget`. */
  let smallUrl: string;
  const budget = createBodyBudget(BUDGET);

  async function serve(bodyBudget?: BodyBudget): Promise<string> {
    const app = createServerApp({
      database: t.database,
      verify: (body, signature) => webhooks.verify(body, signature),
      handler: recordOnly,
      log,
      bodyBudget,
      metrics: createMetrics(),
    });
    const { server, url } = await listen(app, null, { host: '127.0.0.1', port: 0, log });
    servers.push(server);
    return `${url}${WEBHOOK_PATH}`;
  }

  beforeAll(async () => {
    t = await openTestDatabase('pglite');
    url = await serve();
    smallUrl = await serve(budget);
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await t?.cleanup();
  });

  const recorded = async (id: string) =>
    (await t.database.db.select().from(deliveries).where(eq(deliveries.id, id))).length;

  it('refuses a Content-Length over 25 MB with 413 before a byte of the body is sent, and hangs up', async () => {
    const request = rawRequest(url, { headers: unsigned(MAX_WEBHOOK_BYTES + 1) });
    const answer = await request.answer;
    expect(answer).toMatchObject({ status: 413, sentBeforeAnswer: 0 });
    expect(JSON.parse(answer.body)).toEqual({ error: 'payload larger than GitHub sends (25 MB)' });
    await request.closed;
  });

  it('refuses a chunked body with 413 once it passes 25 MB', async () => {
    const request = rawRequest(url, { headers: unsigned() });
    const sent = await request.send(Buffer.alloc(64 * MB, 'x'), { chunked: true });
    const answer = await request.answer;
    expect(answer.status).toBe(413);
    // Answered at the cap: the client stopped sending long before the end of its body.
    expect(sent).toBeLessThan(64 * MB);
    await request.closed;
  });

  it('answers 503 with Retry-After: 5 before reading a body the budget has no room for, until the holder ends', async () => {
    // A holds 700 KB of the 1 MB budget by its Content-Length and sends a little of its body.
    const holder = rawRequest(smallUrl, { headers: unsigned(700_000) });
    await holder.send(Buffer.alloc(100_000, 'x'));
    await until('the holder to take its share', () => budget.inUse() === 700_000);

    const turnedAway = rawRequest(smallUrl, { headers: unsigned(700_000) });
    const answer = await turnedAway.answer;
    expect(answer).toMatchObject({ status: 503, sentBeforeAnswer: 0 });
    expect(answer.headers['retry-after']).toBe('5');
    expect(JSON.parse(answer.body).error).toContain('redeliver later');
    expect(holder.answered()).toBe(false);
    const scraped = await (await fetch(smallUrl.replace(WEBHOOK_PATH, '/metrics'))).text();
    expect(scraped).toContain(
      'agent_orchestrator_webhook_deliveries_total{event="issues",outcome="busy"} 1',
    );

    // The holder's client gives up mid-body: its share comes back.
    holder.destroy();
    await until('the aborted request to give its share back', () => budget.inUse() === 0);
    const { body, headers } = signedDelivery(700_000);
    const delivered = rawRequest(smallUrl, {
      headers: { ...headers, 'content-length': `${body.length}` },
    });
    await delivered.send(body);
    expect((await delivered.answer).status).toBe(200);
    expect(await recorded(headers['x-github-delivery']!)).toBe(1);
    expect(budget.inUse()).toBe(0);
  });

  it('answers 503 to a chunked body that grows past what the budget has left', async () => {
    const request = rawRequest(smallUrl, { headers: unsigned() });
    await request.send(Buffer.alloc(2 * MB, 'x'), { chunked: true, chunkSize: 64 * 1024 });
    const answer = await request.answer;
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('5');
    await request.closed;
    expect(budget.inUse()).toBe(0);
  });

  it('takes signed deliveries as before, by Content-Length or chunked, and gives their share back', async () => {
    for (const chunked of [false, true]) {
      const { body, headers } = signedDelivery(300_000);
      const request = rawRequest(smallUrl, {
        headers: chunked
          ? { ...headers, 'transfer-encoding': 'chunked' }
          : { ...headers, 'content-length': `${body.length}` },
      });
      await request.send(body, { chunked, chunkSize: 7_000 });
      const answer = await request.answer;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ ok: true, outcome: 'recorded' });
      expect(await recorded(headers['x-github-delivery']!)).toBe(1);
      request.destroy();
    }
    const bad = rawRequest(smallUrl, { headers: unsigned(10) });
    await bad.send(Buffer.from('{"a":"b"} '));
    expect((await bad.answer).status).toBe(401);
    bad.destroy();
    expect(budget.inUse()).toBe(0);
  });
});
