import os from 'node:os';
import { eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { runners } from '../db/schema.js';

const HEARTBEAT_MS = 10_000;
const VERSION = '0.1.0';

/**
 * The runner's row: written at start (again after a restart, same id), then a heartbeat every
 * 10 s that says it is alive. Returns the function that stops the heartbeat.
 */
export async function registerRunner(
  db: Db,
  runner: { id: string; maxSessions: number; log: Logger },
): Promise<() => void> {
  await db
    .insert(runners)
    .values({
      id: runner.id,
      hostname: os.hostname(),
      pid: process.pid,
      maxSessions: runner.maxSessions,
      version: VERSION,
    })
    .onConflictDoUpdate({
      target: runners.id,
      set: {
        pid: process.pid,
        maxSessions: runner.maxSessions,
        startedAt: sql`now()`,
        heartbeatAt: sql`now()`,
      },
    });
  const heartbeat = setInterval(() => {
    db.update(runners)
      .set({ heartbeatAt: sql`now()` })
      .where(eq(runners.id, runner.id))
      .catch((error: unknown) => runner.log.warn({ err: error }, 'heartbeat failed'));
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}
