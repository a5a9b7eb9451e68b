import { eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { deliveries } from '../db/schema.js';
import { insertJobFrom, JOBS_CHANNEL, type NewJob } from '../jobs/queue.js';

export interface WebhookDelivery {
  id: string;
  name: string;
  payload: Record<string, unknown>;
}

/** What a delivery causes: an outcome to record and, at most, one job to queue with it. */
export interface DeliveryPlan {
  /** `recorded` (nothing), `ignored`, `queued:<intent>`, ... */
  outcome: string;
  sessionId?: string | null;
  job?: NewJob;
}

/**
 * Decides what a delivery causes, from the delivery alone: no database, no GitHub, no git. The
 * work itself belongs in the job it names. It may run again for a redelivery, which then records
 * and queues nothing.
 */
export type DeliveryHandler = (delivery: WebhookDelivery, log: Logger) => DeliveryPlan;

export const recordOnly: DeliveryHandler = () => ({ outcome: 'recorded' });

/**
 * Records the delivery by its id together with its plan's job, in one statement: both or
 * neither, in one round trip, so the webhook answers fast under load. Returns false for a
 * delivery seen before: a redelivery records and queues nothing.
 */
export async function recordDelivery(
  db: Db,
  delivery: WebhookDelivery,
  plan: DeliveryPlan,
): Promise<boolean> {
  const { payload } = delivery;
  const record = sql`insert into ${deliveries}
      (id, event, action, installation_id, repository_id, outcome, session_id)
    values (${delivery.id}, ${delivery.name},
      ${typeof payload.action === 'string' ? payload.action : null},
      ${numberAt(payload, 'installation', 'id')}, ${numberAt(payload, 'repository', 'id')},
      ${plan.outcome}, ${plan.sessionId ?? null})
    on conflict do nothing
    returning id`;
  const statement = plan.job
    ? sql`with recorded as (${record}),
        queued as (${insertJobFrom('recorded', plan.job)}),
        woken as (select pg_notify(${JOBS_CHANNEL}, coalesce(runner_id, '')) from queued)
      select (select count(*) from recorded)::int as recorded, (select count(*) from woken)::int as woken`
    : sql`with recorded as (${record}) select count(*)::int as recorded from recorded`;
  const [row] = rowsOf<{ recorded: number }>(await db.execute(statement));
  return (row?.recorded ?? 0) > 0;
}

/** The rows of a raw statement: postgres.js returns them as the result, PGlite under `rows`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

function numberAt(payload: Record<string, unknown>, key: string, field: string): number | null {
  const value = (payload[key] as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'number' ? value : null;
}

/** What became of an operator's start, on its record (`GET /api/starts/:id` answers from it). */
export async function recordStartOutcome(
  db: Db,
  startId: string,
  outcome: string,
  sessionId: string | null,
): Promise<void> {
  await db.update(deliveries).set({ outcome, sessionId }).where(eq(deliveries.id, startId));
}
