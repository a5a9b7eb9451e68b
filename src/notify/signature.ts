import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Agent-Orchestrator-Signature-256';
export const EVENT_HEADER = 'X-Agent-Orchestrator-Event';
export const DELIVERY_HEADER = 'X-Agent-Orchestrator-Delivery';

/** `sha256=<hex HMAC-SHA256 of body>`, the signature header's value. */
export function sign(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Whether header is the signature of the exact body bytes with secret, compared in constant time.
 * For receivers of the generic webhook: verify the raw body, before parsing it.
 */
export function verifySignature(
  secret: string,
  body: string | Uint8Array,
  header: string | string[] | null | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(sign(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
