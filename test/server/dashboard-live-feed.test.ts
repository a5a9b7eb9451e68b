import { eq, sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { sessionEvents, sessions } from '../../src/db/schema.js';
import { createJobQueue } from '../../src/jobs/queue.js';
import { createLiveFeed, type LiveChange } from '../../src/server/dashboard/live-feed.js';
import { createSessionService } from '../../src/sessions/session-service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

async function newSession(database: Database, issueNumber: number) {
  const service = createSessionService({
    db: database.db,
    queue: createJobQueue({ db: database.db }),
  });
  const session = await service.create({
    repositoryId: 1,
    repositoryFullName: 'octo/widgets',
    cloneUrl: 'https://github.com/octo/widgets.git',
    issueNumber,
    agent: 'claude-code',
    triggeredBy: 'alice',
  });
  return session!;
}

/** Everything a feed reports once it is ready, and a way to wait for something in it. */
async function record(feed: ReturnType<typeof createLiveFeed>) {
  const changes: LiveChange[] = [];
  let wake = () => {};
  let unsubscribe = () => {};
  await new Promise<void>((ready) => {
    unsubscribe = feed.subscribe({
      onReady: ready,
      onChange(change) {
        changes.push(change);
        wake();
      },
      onClose() {},
    });
  });
  return {
    changes,
    unsubscribe,
    async until<T>(find: (all: LiveChange[]) => T | undefined): Promise<T> {
      for (;;) {
        const found = find(changes);
        if (found !== undefined) return found;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}

describe.each(ENGINES)('the dashboard’s live feed on %s', (engine) => {
  let t: TestDatabase;
  let feed: ReturnType<typeof createLiveFeed>;
  beforeEach(async () => {
    t = await openTestDatabase(engine);
    feed = createLiveFeed({ database: t.database, log: pino({ level: 'silent' }), intervalMs: 20 });
  });
  afterEach(async () => {
    feed.close();
    await t.cleanup();
  });

  it('reports new sessions, changed sessions and new events, each once', async () => {
    const watcher = await record(feed);
    const session = await newSession(t.database, 1);
    const created = await watcher.until((all) =>
      all.flatMap((c) => c.sessions).find((s) => s.id === session.id),
    );
    expect(created.status).toBe('queued');
    await watcher.until((all) =>
      all.flatMap((c) => c.events).find((e) => e.sessionId === session.id && e.kind === 'created'),
    );

    await t.database.db
      .update(sessions)
      .set({ status: 'working', updatedAt: sql`now()` })
      .where(eq(sessions.id, session.id));
    await watcher.until((all) =>
      all.flatMap((c) => c.sessions).find((s) => s.status === 'working'),
    );
    await t.database.db.insert(sessionEvents).values({ sessionId: session.id, kind: 'marker' });
    await watcher.until((all) => all.flatMap((c) => c.events).find((e) => e.kind === 'marker'));

    const kinds = watcher.changes.flatMap((c) => c.events).map((e) => e.kind);
    expect(kinds).toEqual(['created', 'marker']);
    const versions = watcher.changes.flatMap((c) => c.sessions).map((s) => s.status);
    expect(versions).toEqual(['queued', 'working']);
    watcher.unsubscribe();
  });

  it('ends every subscriber when it closes, and any that come later', async () => {
    const ended: string[] = [];
    feed.subscribe({ onChange() {}, onClose: () => ended.push('first') });
    feed.close();
    feed.subscribe({ onChange() {}, onClose: () => ended.push('late') });
    expect(ended).toEqual(['first', 'late']);
  });
});

describe('the dashboard’s live feed with concurrent writers (postgres)', () => {
  let t: TestDatabase;
  afterEach(() => t?.cleanup());

  it('reports an event that commits after a later one, though its id is lower', async () => {
    t = await openTestDatabase('postgres');
    const feed = createLiveFeed({
      database: t.database,
      log: pino({ level: 'silent' }),
      intervalMs: 20,
    });
    const session = await newSession(t.database, 1);
    const slow = await t.connect();
    const watcher = await record(feed);
    try {
      // The slow writer takes its id first and commits last.
      let commit = () => {};
      const committed = new Promise<void>((resolve) => {
        commit = resolve;
      });
      let inserted = () => {};
      const insertedYet = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const slowWrite = slow.db.transaction(async (tx) => {
        await tx.insert(sessionEvents).values({ sessionId: session.id, kind: 'slow' });
        inserted();
        await committed;
      });
      await insertedYet;
      await t.database.db.insert(sessionEvents).values({ sessionId: session.id, kind: 'fast' });
      const fast = await watcher.until((all) =>
        all.flatMap((c) => c.events).find((e) => e.kind === 'fast'),
      );
      commit();
      await slowWrite;
      const late = await watcher.until((all) =>
        all.flatMap((c) => c.events).find((e) => e.kind === 'slow'),
      );
      expect(late.id).toBeLessThan(fast.id);
    } finally {
      watcher.unsubscribe();
      feed.close();
    }
  });
});
