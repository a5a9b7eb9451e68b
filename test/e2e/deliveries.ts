import { randomUUID } from 'node:crypto';
import { deliveryHeaders } from '../helpers/webhooks.js';
import type { EditablePayload } from './payloads.js';

/** What the webhook endpoint answers to a delivery it took. */
export interface DeliveryAnswer {
  outcome?: string;
  duplicate?: boolean;
  delivery: string;
}

/** Signed webhook deliveries, as GitHub sends them, to the app listening at `url()`. */
export function deliveriesTo(secret: string, url: () => string) {
  /** Posts a signed delivery; resolves with the response, whatever its status. */
  function post(
    event: string,
    body: EditablePayload | string,
    { id = randomUUID(), url: to = url() }: { id?: string; url?: string } = {},
  ) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return fetch(`${to}/api/github/webhooks`, {
      method: 'POST',
      headers: deliveryHeaders(secret, event, text, id),
      body: text,
    });
  }

  /** Posts a signed delivery that must be answered 200; returns its JSON answer. */
  async function deliver(
    event: string,
    body: EditablePayload,
    id = randomUUID(),
  ): Promise<DeliveryAnswer> {
    const res = await post(event, body, { id });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`delivery answered ${res.status}: ${text}`);
    return JSON.parse(text) as DeliveryAnswer;
  }

  return { post, deliver };
}
