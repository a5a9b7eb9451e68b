import type { MiddlewareHandler } from 'hono';

/**
 * The dashboard's policy: its own script and style sheet (served from /assets), no inline
 * script or style, event streams and forms to this site only, and never inside a frame.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** What every answer carries, whatever made it: no framing, no sniffing, no referrer. */
export const FRAMING_AND_REFERRER_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** Sets the headers on every response of the Hono app: dashboard, API, webhooks, metrics. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.res.headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
    for (const [name, value] of Object.entries(FRAMING_AND_REFERRER_HEADERS)) {
      c.res.headers.set(name, value);
    }
  };
}
