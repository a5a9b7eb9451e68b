import type { SessionService } from '../sessions/session-service.js';
import type { DeliveryHandler } from './deliveries.js';
import { translate } from './translate.js';

/**
 * The webhook request's whole job: translate the delivery (pure) and queue its intent in the
 * transaction that records the delivery. Permission checks, config and CI details are GitHub
 * calls, so they happen in the intent's job, never in the request.
 */
export function createWebhookHandler({
  sessionService,
}: {
  sessionService: SessionService;
}): DeliveryHandler {
  return async (delivery, tx) => {
    const intent = translate(delivery.name, delivery.payload);
    if (!intent) return { outcome: 'ignored' };
    await sessionService.enqueueIntent(tx, {
      intent,
      deliveryId: delivery.id,
      receivedAt: new Date().toISOString(),
    });
    return { outcome: `queued:${intent.kind}` };
  };
}
