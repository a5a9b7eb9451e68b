import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Tx } from '../db/client.js';
import { deliveries } from '../db/schema.js';

export interface WebhookDelivery {
  id: string;
  name: string;
  payload: Record<string, unknown>;
}

export interface DeliveryOutcome {
  /** What the delivery caused: `recorded` (nothing), `ignored`, `session-created`, ... */
  outcome: string;
  sessionId?: string | null;
}

/**
 * Turns a delivery into state changes and jobs, inside the transaction that records it.
 * It must not call GitHub, git or an agent: that work belongs in the jobs it enqueues.
 */
export type DeliveryHandler = (
  delivery: WebhookDelivery,
  tx: Tx,
  log: Logger,
) => Promise<DeliveryOutcome>;

export const recordOnly: DeliveryHandler = async () => ({ outcome: 'recorded' });

/**
 * Records the delivery by its id and runs the handler in the same transaction.
 * Returns null for a delivery seen before: a redelivery does nothing again.
 */
export async function recordDelivery(
  tx: Tx,
  delivery: WebhookDelivery,
  handler: DeliveryHandler,
  log: Logger,
): Promise<DeliveryOutcome | null> {
  const { payload } = delivery;
  const inserted = await tx
    .insert(deliveries)
    .values({
      id: delivery.id,
      event: delivery.name,
      action: typeof payload.action === 'string' ? payload.action : null,
      installationId: numberAt(payload, 'installation', 'id'),
      repositoryId: numberAt(payload, 'repository', 'id'),
    })
    .onConflictDoNothing()
    .returning({ id: deliveries.id });
  if (inserted.length === 0) return null;

  const result = await handler(delivery, tx, log);
  if (result.outcome !== 'recorded' || result.sessionId) {
    await tx
      .update(deliveries)
      .set({ outcome: result.outcome, sessionId: result.sessionId ?? null })
      .where(eq(deliveries.id, delivery.id));
  }
  return result;
}

function numberAt(payload: Record<string, unknown>, key: string, field: string): number | null {
  const value = (payload[key] as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'number' ? value : null;
}
