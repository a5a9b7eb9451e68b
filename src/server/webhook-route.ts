import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { type Database, isDatabaseUnavailable } from '../db/client.js';
import { type DeliveryHandler, recordDelivery } from '../github/deliveries.js';
import type { Metrics } from '../metrics/metrics.js';
import { countDeliveries, type DeliveryVariables } from '../metrics/webhook-metrics.js';
import { type BodyBudget, createBodyBudget } from './body-budget.js';
import { declaredLength, readBoundedText } from './webhook-body.js';

export const WEBHOOK_PATH = '/api/github/webhooks';
/** GitHub caps webhook payloads at 25 MB. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;
/** How long a delivery turned away by a full body budget is asked to wait. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

export interface WebhookRouteDeps {
  database: Database;
  verify(body: string, signature: string): Promise<boolean>;
  handler: DeliveryHandler;
  log: Logger;
  metrics?: Metrics | undefined;
  /** What the bodies of all deliveries in flight may hold (default WEBHOOK_BODY_BUDGET_BYTES). */
  bodyBudget?: BodyBudget | undefined;
}

type WebhookContext = Context<{ Variables: DeliveryVariables }>;

/**
 * Answers without reading the rest of the body. The server then discards what still comes for at
 * most 500 ms (or 64 MB) and hangs up (@hono/node-server's drain): closing at once instead would
 * reset a connection whose client is still sending, and the client could lose the answer.
 */
function refuse(c: WebhookContext, status: 413 | 503, message: string): never {
  if (status === 503) {
    c.header('Retry-After', String(BUSY_RETRY_AFTER_SECONDS));
    c.set('bodyBudgetFull', true);
  }
  throw new HTTPException(status, { message });
}

const TOO_LARGE = 'payload larger than GitHub sends (25 MB)';
const BUSY = 'too many webhook bodies in flight; redeliver later';

/**
 * Verifies and translates a delivery, records it with the job it causes in one statement, then
 * answers. Nothing slow happens here: the handler only decides, the job does the work. A body is
 * read only while the budget has room for it (its Content-Length taken before the first byte is
 * read), and never past 25 MB; its share is given back when the request ends, however it ends.
 */
export function webhookRoute({
  database,
  verify,
  handler,
  log,
  metrics,
  bodyBudget = createBodyBudget(),
}: WebhookRouteDeps) {
  return new Hono<{ Variables: DeliveryVariables }>().post(
    WEBHOOK_PATH,
    countDeliveries(metrics),
    async (c) => {
      const declared = declaredLength(c.req.raw.headers);
      if (declared !== undefined && declared > MAX_WEBHOOK_BYTES) refuse(c, 413, TOO_LARGE);
      const id = c.req.header('x-github-delivery');
      const name = c.req.header('x-github-event');
      if (!id || !name) {
        throw new HTTPException(400, {
          message: 'missing X-GitHub-Delivery or X-GitHub-Event header',
        });
      }
      if (!/^[\w.-]{1,200}$/.test(id) || !/^[a-z0-9_]{1,100}$/.test(name)) {
        throw new HTTPException(400, {
          message: 'malformed X-GitHub-Delivery or X-GitHub-Event header',
        });
      }
      const hold = bodyBudget.hold();
      try {
        if (!hold.take(declared ?? 0)) refuse(c, 503, BUSY);
        const read = await readBoundedText(c.req.raw.body, {
          max: MAX_WEBHOOK_BYTES,
          hold,
          held: declared ?? 0,
        });
        if ('refused' in read) {
          if (read.refused === 'too-large') refuse(c, 413, TOO_LARGE);
          refuse(c, 503, BUSY);
        }
        return await accept(c, read.text, id, name);
      } finally {
        hold.release();
      }
    },
  );

  async function accept(c: WebhookContext, body: string, id: string, name: string) {
    const signature = c.req.header('x-hub-signature-256');
    if (!signature || !(await verify(body, signature).catch(() => false))) {
      throw new HTTPException(401, { message: 'signature does not match the webhook secret' });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      throw new HTTPException(400, { message: 'body is not valid JSON' });
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new HTTPException(400, { message: 'body is not a JSON object' });
    }

    const deliveryLog = log.child({ deliveryId: id, event: name });
    const delivery = { id, name, payload: payload as Record<string, unknown> };
    const result = handler(delivery, deliveryLog);
    try {
      if (!(await recordDelivery(database.db, delivery, result))) {
        c.set('duplicateDelivery', true);
        deliveryLog.info('redelivery of a processed delivery; nothing to do');
        return c.json({ ok: true, delivery: id, duplicate: true });
      }
      deliveryLog.info(
        { outcome: result.outcome, sessionId: result.sessionId },
        'delivery accepted',
      );
      return c.json({ ok: true, delivery: id, outcome: result.outcome });
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        deliveryLog.error(
          { err: error },
          'database unavailable; GitHub will mark the delivery failed',
        );
        c.header('Retry-After', '30');
        throw new HTTPException(503, {
          message: 'database unavailable; redeliver later',
          cause: error,
        });
      }
      throw error;
    }
  }
}
