import { asc, desc, gt, inArray, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.js';
import { type Session, type SessionEvent, sessionEvents, sessions } from '../../db/schema.js';

/** What changed since the last look. */
export interface LiveChange {
  /** Sessions whose row changed (status, pull request, cost, ...), as they are now. */
  sessions: Session[];
  /** Events recorded since, in id order. */
  events: SessionEvent[];
}

export interface LiveSubscriber {
  /**
   * From now on every change is reported: read the present state here, so that nothing
   * committed around the moment of subscribing is missed (seeing something twice is fine).
   */
  onReady?(): void;
  onChange(change: LiveChange): void;
  /** The feed is closing (shutdown): end the stream. */
  onClose(): void;
}

export interface LiveFeed {
  /** Starts the poller with the first subscriber; returns the unsubscribe function. */
  subscribe(subscriber: LiveSubscriber): () => void;
  /** Ends every subscription and stops polling; later subscribers are ended at once. */
  close(): void;
}

export interface LiveFeedOptions {
  database: Database;
  log: Logger;
  /** How often the database is read while someone watches (1 s). */
  intervalMs?: number;
  /**
   * How long a row may take to become visible after the time (or id) it was given at: a
   * transaction that commits late still gets noticed within this window (30 s).
   */
  lagMs?: number;
}

/**
 * One poller per process for every live dashboard stream. It reads what changed from the
 * database, not from this process's memory, so it sees what other replicas and runners wrote,
 * on PGlite and Postgres alike; and it only runs while at least one stream is open.
 */
export function createLiveFeed({
  database,
  log,
  intervalMs = 1_000,
  lagMs = 30_000,
}: LiveFeedOptions): LiveFeed {
  const { db } = database;
  const subscribers = new Set<LiveSubscriber>();
  // Subscribers waiting for the poller to take the present as its starting point.
  let unready = new Set<LiveSubscriber>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  // Sessions seen in the last window, by id, with the updated-at sent for each.
  let sessionVersions = new Map<string, number>();
  // Events: every id at or below `floor` has been handled; ids above it that were, in `seenIds`.
  let primed = false;
  let floor = 0;
  let seenIds = new Set<number>();
  let checkpoints: { at: number; maxId: number }[] = [];

  /** Takes the present as the starting point: only what changes after it is reported. */
  async function prime() {
    const window = sql`now() - make_interval(secs => ${lagMs / 1000})`;
    const recent = await db
      .select({ id: sessions.id, updatedAt: sessions.updatedAt })
      .from(sessions)
      .where(gt(sessions.updatedAt, window));
    sessionVersions = new Map(recent.map((s) => [s.id, s.updatedAt.getTime()]));
    const [last] = await db
      .select({ id: sessionEvents.id })
      .from(sessionEvents)
      .orderBy(desc(sessionEvents.id))
      .limit(1);
    floor = last?.id ?? 0;
    primed = true;
  }

  async function read(): Promise<LiveChange> {
    const window = sql`now() - make_interval(secs => ${lagMs / 1000})`;
    const recent = await db.select().from(sessions).where(gt(sessions.updatedAt, window));
    const changedSessions = recent.filter(
      (s) => sessionVersions.get(s.id) !== s.updatedAt.getTime(),
    );
    sessionVersions = new Map(recent.map((s) => [s.id, s.updatedAt.getTime()]));

    // Ids come from a sequence but commit in any order: look again at the recent ones.
    const ids = await db
      .select({ id: sessionEvents.id })
      .from(sessionEvents)
      .where(gt(sessionEvents.id, floor))
      .orderBy(asc(sessionEvents.id));
    const unseen = ids.map((r) => r.id).filter((id) => !seenIds.has(id));
    const events =
      unseen.length > 0
        ? await db
            .select()
            .from(sessionEvents)
            .where(inArray(sessionEvents.id, unseen.slice(0, 1_000)))
            .orderBy(asc(sessionEvents.id))
        : [];
    for (const e of events) seenIds.add(e.id);

    // Ids older than the window are settled: move the floor up to where things stood then.
    const now = Date.now();
    checkpoints.push({ at: now, maxId: Math.max(floor, ...seenIds) });
    const settled = checkpoints.filter((c) => now - c.at >= lagMs);
    if (settled.length > 0) {
      floor = Math.max(floor, ...settled.map((c) => c.maxId));
      checkpoints = checkpoints.filter((c) => now - c.at < lagMs);
      seenIds = new Set([...seenIds].filter((id) => id > floor));
    }
    return { sessions: changedSessions, events };
  }

  function call(subscriber: LiveSubscriber, fn: () => void) {
    if (!subscribers.has(subscriber)) return;
    try {
      fn();
    } catch (error) {
      log.warn({ err: error }, 'a dashboard stream failed to take a change');
    }
  }

  function reset() {
    running = false;
    primed = false;
    sessionVersions = new Map();
    floor = 0;
    seenIds = new Set();
    checkpoints = [];
  }

  async function tick() {
    timer = undefined;
    if (subscribers.size === 0 || closed) return reset();
    try {
      if (!primed) {
        await prime();
        const ready = [...unready];
        unready = new Set();
        for (const subscriber of ready) call(subscriber, () => subscriber.onReady?.());
      } else {
        const change = await read();
        if (change.sessions.length > 0 || change.events.length > 0) {
          for (const subscriber of [...subscribers])
            call(subscriber, () => subscriber.onChange(change));
        }
      }
    } catch (error) {
      log.warn({ err: error }, 'the dashboard could not read changes; trying again');
    }
    if (subscribers.size === 0 || closed) return reset();
    timer = setTimeout(() => void tick(), intervalMs);
  }

  return {
    subscribe(subscriber) {
      if (closed) {
        subscriber.onClose();
        return () => {};
      }
      subscribers.add(subscriber);
      if (primed) queueMicrotask(() => call(subscriber, () => subscriber.onReady?.()));
      else unready.add(subscriber);
      if (!running) {
        running = true;
        void tick();
      }
      return () => {
        subscribers.delete(subscriber);
        unready.delete(subscriber);
      };
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const subscriber of [...subscribers]) subscriber.onClose();
      subscribers.clear();
      unready.clear();
    },
  };
}
