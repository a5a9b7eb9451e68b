import { emitterEventNames } from '@octokit/webhooks';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { DeliveryOutcome, Metrics } from './metrics.js';

/** Event names GitHub sends: anything else (the header is not yet verified) counts as "other". */
const GITHUB_EVENTS: ReadonlySet<string> = new Set(
  emitterEventNames.filter((name) => !name.includes('.')),
);

export function deliveryEventLabel(name: string | undefined): string {
  return name && GITHUB_EVENTS.has(name) ? name : 'other';
}

/**
 * Set by the webhook route: when a delivery was already processed, and when it was turned away
 * because the bodies in flight held the whole budget.
 */
export type DeliveryVariables = { duplicateDelivery?: boolean; bodyBudgetFull?: boolean };

function outcomeOf(status: number, duplicate: boolean, busy: boolean): DeliveryOutcome {
  if (status >= 200 && status < 300) return duplicate ? 'duplicate' : 'accepted';
  if (status === 400) return 'bad_request';
  if (status === 401) return 'bad_signature';
  if (status === 413) return 'too_large';
  if (status === 503) return busy ? 'busy' : 'unavailable';
  return 'error';
}

/** Counts each webhook request by event and outcome, and times it until its answer. */
export function countDeliveries(metrics: Metrics | undefined) {
  return createMiddleware<{ Variables: DeliveryVariables }>(async (c, next) => {
    if (!metrics) return next();
    const started = performance.now();
    // Hono's onError turns a thrown error into c.res; without one, the error comes through here.
    let status = 500;
    try {
      await next();
      status = c.res.status;
    } catch (error) {
      if (error instanceof HTTPException) status = error.status;
      throw error;
    } finally {
      metrics.deliveryAnswered(
        deliveryEventLabel(c.req.header('x-github-event')),
        outcomeOf(status, c.get('duplicateDelivery') === true, c.get('bodyBudgetFull') === true),
        (performance.now() - started) / 1000,
      );
    }
  });
}
