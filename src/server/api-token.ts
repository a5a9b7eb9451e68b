import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';

/** Compares in constant time whatever the lengths (hashing first evens them out). */
export function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** 401 unless the request carries `Authorization: Bearer <apiToken>`; null lets nobody in. */
export function requireBearer(apiToken: string | null): MiddlewareHandler {
  return async (c, next) => {
    const token = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!apiToken || !token || !sameToken(token, apiToken)) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new HTTPException(401, {
        message: apiToken ? 'a valid bearer token is required' : 'the API is off: set API_TOKEN',
      });
    }
    await next();
  };
}
