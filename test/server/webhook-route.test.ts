import { Webhooks } from '@octokit/webhooks';
import { count, eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.js';
import { deliveries, jobs } from '../../src/db/schema.js';
import { type DeliveryHandler, recordOnly } from '../../src/github/deliveries.js';
import { createServerApp } from '../../src/server/app.js';
import { MAX_WEBHOOK_BYTES, WEBHOOK_PATH } from '../../src/server/webhook-route.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { deliveryHeaders, examplePayload } from '../helpers/webhooks.js';
import { listenForWakeUps, waitFor } from '../jobs/support.js';

const secret = 'test-secret';
const webhooks = new Webhooks({ secret });
const verify = (body: string, signature: string) => webhooks.verify(body, signature);
const log = pino({ level: 'silent' });

function appFor(database: Database, handler: DeliveryHandler) {
  return createServerApp({ database, verify, handler, log });
}

function post(app: ReturnType<typeof appFor>, body: string, headers: Record<string, string>) {
  return app.request(WEBHOOK_PATH, { method: 'POST', body, headers });
}

describe.each(ENGINES)('webhook route on %s', (engine) => {
  let t: TestDatabase;
  const handled: string[] = [];
  // Names a job to queue with the delivery's record, as the real handler does with intents.
  const handler: DeliveryHandler = (delivery) => {
    handled.push(delivery.id);
    if (delivery.payload.fail === true) throw new Error('handler blew up');
    return {
      outcome: 'queued-test-job',
      job: { kind: 'test', payload: { delivery: delivery.id } },
    };
  };

  beforeAll(async () => {
    t = await openTestDatabase(engine);
  });
  afterAll(() => t?.cleanup());
  afterEach(() => {
    handled.length = 0;
  });

  async function deliveryRows(id: string) {
    return t.database.db.select().from(deliveries).where(eq(deliveries.id, id));
  }
  async function jobCount(deliveryId: string) {
    const rows = await t.database.db.select().from(jobs);
    return rows.filter((j) => j.payload.delivery === deliveryId).length;
  }

  it('accepts a signed example payload and records the delivery with what it caused', async () => {
    const app = appFor(t.database, handler);
    const example = examplePayload('issue_comment', 'created');
    const payload = { ...example, installation: { id: 1234 } };
    const body = JSON.stringify(payload);
    const headers = deliveryHeaders(secret, 'issue_comment', body);
    const res = await post(app, body, headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, outcome: 'queued-test-job' });
    const [row] = await deliveryRows(headers['x-github-delivery']!);
    expect(row).toMatchObject({
      event: 'issue_comment',
      action: 'created',
      outcome: 'queued-test-job',
    });
    expect(row?.repositoryId).toBe((example.repository as { id: number }).id);
    expect(row?.installationId).toBe(1234);
    expect(await jobCount(headers['x-github-delivery']!)).toBe(1);
  });

  it('wakes the workers when the job it queued commits, and no one for a plain record', async () => {
    const wakeUps = await listenForWakeUps(t.database);
    const addressed: DeliveryHandler = () => ({
      outcome: 'queued-test-job',
      job: { kind: 'test', runnerId: 'r-wake', payload: {} },
    });
    try {
      const quiet = JSON.stringify(examplePayload('issues', 'opened'));
      const plain = await post(
        appFor(t.database, recordOnly),
        quiet,
        deliveryHeaders(secret, 'issues', quiet),
      );
      expect(plain.status).toBe(200);
      const body = JSON.stringify(examplePayload('issues', 'labeled'));
      const res = await post(
        appFor(t.database, addressed),
        body,
        deliveryHeaders(secret, 'issues', body),
      );
      expect(res.status).toBe(200);
      // Notifications arrive in commit order: the plain record's would come first.
      await waitFor('the wake-up', () => wakeUps.payloads[0]);
      expect(wakeUps.payloads).toEqual(['r-wake']);
    } finally {
      await wakeUps.unlisten();
    }
  });

  it('answers a redelivery 200 and does nothing again', async () => {
    const app = appFor(t.database, handler);
    const body = JSON.stringify(examplePayload('issues', 'labeled'));
    const headers = deliveryHeaders(secret, 'issues', body);
    expect((await post(app, body, headers)).status).toBe(200);
    const again = await post(app, body, headers);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(await deliveryRows(headers['x-github-delivery']!)).toHaveLength(1);
    expect(await jobCount(headers['x-github-delivery']!)).toBe(1);
  });

  it('processes one of ten identical deliveries arriving at once', async () => {
    const app = appFor(t.database, handler);
    const body = JSON.stringify(examplePayload('issues', 'labeled'));
    const headers = deliveryHeaders(secret, 'issues', body);
    const responses = await Promise.all(Array.from({ length: 10 }, () => post(app, body, headers)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(
      (
        await Promise.all(responses.map((r) => r.json() as Promise<{ duplicate?: boolean }>))
      ).filter((a) => !a.duplicate),
    ).toHaveLength(1);
    expect(await deliveryRows(headers['x-github-delivery']!)).toHaveLength(1);
    expect(await jobCount(headers['x-github-delivery']!)).toBe(1);
  });

  it('rejects a wrong or missing signature with 401 and records nothing', async () => {
    const app = appFor(t.database, handler);
    const body = JSON.stringify(examplePayload('issues', 'opened'));
    const wrong = deliveryHeaders('not-the-secret', 'issues', body);
    const res = await post(app, body, wrong);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'signature does not match the webhook secret' });
    const { 'x-hub-signature-256': _, ...unsigned } = deliveryHeaders(secret, 'issues', body);
    expect((await post(app, body, unsigned)).status).toBe(401);
    expect(await deliveryRows(wrong['x-github-delivery']!)).toHaveLength(0);
    expect(await deliveryRows(unsigned['x-github-delivery']!)).toHaveLength(0);
    expect(handled).toEqual([]);
  });

  it('rejects a malformed body or missing headers with 400 and records nothing', async () => {
    const app = appFor(t.database, handler);
    const headers = deliveryHeaders(secret, 'issues', '{');
    const res = await post(app, '{', headers);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not valid JSON' });
    expect((await post(app, '[1]', deliveryHeaders(secret, 'issues', '[1]'))).status).toBe(400);

    const body = JSON.stringify(examplePayload('issues', 'opened'));
    const { 'x-github-event': _, ...noEvent } = deliveryHeaders(secret, 'issues', body);
    expect((await post(app, body, noEvent)).status).toBe(400);
    const { 'x-github-delivery': __, ...noId } = deliveryHeaders(secret, 'issues', body);
    expect((await post(app, body, noId)).status).toBe(400);
    expect(await deliveryRows(headers['x-github-delivery']!)).toHaveLength(0);
    expect(handled).toEqual([]);
  });

  it('records nothing when handling fails, so a redelivery is processed', async () => {
    const app = appFor(t.database, handler);
    const payload = { ...examplePayload('issues', 'opened'), fail: true };
    const body = JSON.stringify(payload);
    const headers = deliveryHeaders(secret, 'issues', body);
    const res = await post(app, body, headers);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
    expect(await deliveryRows(headers['x-github-delivery']!)).toHaveLength(0);
    expect(await jobCount(headers['x-github-delivery']!)).toBe(0);

    const fixedBody = JSON.stringify({ ...payload, fail: false });
    const fixed = { ...deliveryHeaders(secret, 'issues', fixedBody, headers['x-github-delivery']) };
    expect((await post(app, fixedBody, fixed)).status).toBe(200);
    expect(await deliveryRows(headers['x-github-delivery']!)).toHaveLength(1);
  });

  it('refuses a body larger than GitHub ever sends with 413', async () => {
    const app = appFor(t.database, handler);
    const body = JSON.stringify({ blob: 'x'.repeat(MAX_WEBHOOK_BYTES) });
    const res = await post(app, body, deliveryHeaders(secret, 'issues', body));
    expect(res.status).toBe(413);
    expect(handled).toEqual([]);
  });

  it('serves health, readiness and JSON 404s', async () => {
    const app = appFor(t.database, handler);
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: engine });
    const missing = await app.request('/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found', path: '/api/nothing-here' });
  });
});

describe('webhook route while Postgres is unreachable', () => {
  it('answers 503 so GitHub marks the delivery failed, then processes the redelivery', async () => {
    const t = await openTestDatabase('postgres');
    const target = new URL(t.url!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(t.url!);
    viaProxy.port = String(proxy.port);
    const database = await createDatabase({ url: viaProxy.href, maxConnections: 2 });
    try {
      const handler: DeliveryHandler = () => ({ outcome: 'recorded' });
      const app = appFor(database, handler);
      const body = JSON.stringify(examplePayload('issue_comment', 'created'));
      const headers = deliveryHeaders(secret, 'issue_comment', body);
      expect((await app.request('/readyz')).status).toBe(200);

      await proxy.cut();
      const res = await post(app, body, headers);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect((await app.request('/readyz')).status).toBe(503);
      expect((await app.request('/healthz')).status).toBe(200);

      await proxy.restore();
      const redelivered = await post(app, body, headers);
      expect(redelivered.status).toBe(200);
      const [stored] = await t.database.db
        .select({ n: count() })
        .from(deliveries)
        .where(eq(deliveries.id, headers['x-github-delivery']!));
      expect(stored?.n).toBe(1);
    } finally {
      await database.close();
      await proxy.close();
      await t.cleanup();
    }
  });
});
