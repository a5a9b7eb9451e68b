import { sessionJobs } from '../sessions/job-kinds.js';
import type { DeliveryHandler } from './deliveries.js';
import { translate } from './translate.js';

/**
 * The webhook request's whole job: translate the delivery (pure) into an intent, which is queued
 * in the statement that records the delivery. Permission checks, config and CI details are
 * GitHub calls, so they happen in the intent's job, never in the request.
 */
export function createWebhookHandler(): DeliveryHandler {
  return (delivery) => {
    const intent = translate(delivery.name, delivery.payload);
    if (!intent) return { outcome: 'ignored' };
    return {
      outcome: `queued:${intent.kind}`,
      job: sessionJobs.intent({
        intent,
        deliveryId: delivery.id,
        receivedAt: new Date().toISOString(),
      }),
    };
  };
}
