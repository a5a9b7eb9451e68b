import { randomUUID } from 'node:crypto';
import { postJson } from './post-json.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign } from './signature.js';

export interface WebhookNotification {
  url: string;
  /** The shared secret the body is signed with. */
  secret: string;
  /** The JSON body; its `type` names the event in a header. */
  event: Record<string, unknown>;
  /** Pass the same id on every retry of one notification, so that receivers can deduplicate. */
  deliveryId?: string | undefined;
  /** How long to wait for the receiver (10 s). */
  timeoutMs?: number;
}

/**
 * POSTs event as JSON to an operator's endpoint, signed like GitHub's webhooks: header
 * `X-Agent-Orchestrator-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, with the event type
 * and a delivery id in `X-Agent-Orchestrator-Event` and `X-Agent-Orchestrator-Delivery`. Throws
 * (so the delivering job retries) on a network error or a non-2xx answer.
 */
export async function notifyWebhook(
  fetchImpl: typeof fetch = fetch,
  { url, secret, event, deliveryId = randomUUID(), timeoutMs = 10_000 }: WebhookNotification,
): Promise<{ deliveryId: string }> {
  const body = JSON.stringify(event);
  await postJson(fetchImpl, url, body, {
    channel: 'webhook',
    timeoutMs,
    headers: {
      [SIGNATURE_HEADER]: sign(secret, body),
      [EVENT_HEADER]: typeof event.type === 'string' ? event.type : 'unknown',
      [DELIVERY_HEADER]: deliveryId,
    },
  });
  return { deliveryId };
}
