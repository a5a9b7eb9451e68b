import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { type Database, isDatabaseUnavailable } from '../db/client.js';
import { type DeliveryHandler, recordDelivery } from '../github/deliveries.js';
import type { Metrics } from '../metrics/metrics.js';
import { countDeliveries, type DeliveryVariables } from '../metrics/webhook-metrics.js';

export const WEBHOOK_PATH = '/api/github/webhooks';
/** GitHub caps webhook payloads at 25 MB. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export interface WebhookRouteDeps {
  database: Database;
  verify(body: string, signature: string): Promise<boolean>;
  handler: DeliveryHandler;
  log: Logger;
  metrics?: Metrics | undefined;
}

/**
 * Verifies and translates a delivery, records it with the job it causes in one statement, then
 * answers. Nothing slow happens here: the handler only decides, the job does the work.
 */
export function webhookRoute({ database, verify, handler, log, metrics }: WebhookRouteDeps) {
  return new Hono<{ Variables: DeliveryVariables }>().post(
    WEBHOOK_PATH,
    countDeliveries(metrics),
    bodyLimit({
      maxSize: MAX_WEBHOOK_BYTES,
      onError: () => {
        throw new HTTPException(413, { message: 'payload larger than GitHub sends (25 MB)' });
      },
    }),
    async (c) => {
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
      const body = await c.req.text();
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
    },
  );
}
