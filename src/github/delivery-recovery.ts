import { inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/client.js';
import { deliveries } from '../db/schema.js';
import type { Octokit } from './octokit.js';

interface HookDelivery {
  /** GitHub's id of this attempt, used to ask for another. */
  id: number;
  /** The X-GitHub-Delivery id: the same for every attempt of one delivery. */
  guid: string;
  status: string;
  status_code: number;
  delivered_at: string;
  redelivery: boolean;
}

export interface DeliveryRecoveryOptions {
  database: Database;
  /** The app's own Octokit (JWT), not an installation's. */
  appOctokit(): Promise<Octokit>;
  log: Logger;
  /** How often to look (default 10 minutes). */
  intervalMs?: number;
  /** How far back to look (default 24 hours). */
  lookBackMs?: number;
  /** At most this many pages of 100 deliveries a run. */
  maxPages?: number;
}

/**
 * Deliveries GitHub could not hand over (the app was down, or answered 5xx) and the app never
 * recorded are redelivered: at startup and every 10 minutes, so nothing is lost to an outage.
 */
export function createDeliveryRecovery({
  database,
  appOctokit,
  log,
  intervalMs = 600_000,
  lookBackMs = 86_400_000,
  maxPages = 5,
}: DeliveryRecoveryOptions) {
  /** Guids already asked for in this process: GitHub lists every attempt separately. */
  const requested = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  /** Aborts the calls of a look in progress when the app shuts down (retries would hold it up). */
  const stopping = new AbortController();
  const request = { signal: stopping.signal };

  async function failedDeliveries(octokit: Octokit): Promise<Map<string, HookDelivery>> {
    const since = Date.now() - lookBackMs;
    const failed = new Map<string, HookDelivery>();
    let cursor: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const response = await octokit.request('GET /app/hook/deliveries', {
        per_page: 100,
        status: 'failure',
        ...(cursor ? { cursor } : {}),
        request,
      });
      const list = response.data as HookDelivery[];
      let older = false;
      for (const d of list) {
        if (Date.parse(d.delivered_at) < since) older = true;
        else if (!failed.has(d.guid)) failed.set(d.guid, d);
      }
      cursor = /[?&]cursor=([^&>]+)[^>]*>;\s*rel="next"/.exec(
        String(response.headers.link ?? ''),
      )?.[1];
      if (older || !cursor || list.length === 0) break;
    }
    return failed;
  }

  /** One look: redelivers what failed and was never recorded; returns how many it asked for. */
  async function runOnce(): Promise<number> {
    const octokit = await appOctokit();
    const failed = await failedDeliveries(octokit);
    if (failed.size === 0) return 0;
    // A delivery the app recorded (an earlier or later attempt got through) needs nothing.
    const known = await database.db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(inArray(deliveries.id, [...failed.keys()]));
    for (const { id } of known) failed.delete(id);
    let asked = 0;
    for (const [guid, delivery] of failed) {
      if (requested.has(guid)) continue;
      await octokit.request('POST /app/hook/deliveries/{delivery_id}/attempts', {
        delivery_id: delivery.id,
        request,
      });
      requested.add(guid);
      asked += 1;
      log.info(
        { deliveryId: guid, failedWith: delivery.status_code },
        'asked GitHub to redeliver a failed delivery',
      );
    }
    return asked;
  }

  function look() {
    running ??= runOnce()
      .catch((error: unknown) => {
        if (stopping.signal.aborted) return 0;
        log.warn({ err: error }, 'could not check for failed deliveries; will look again');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    runOnce,
    start() {
      void look();
      timer = setInterval(() => void look(), intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
