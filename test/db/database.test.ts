import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, isDatabaseUnavailable } from '../../src/db/client.js';
import { DataFolderLockedError, LOCK_FILE } from '../../src/db/data-folder-lock.js';
import { MIGRATIONS_FOLDER, runMigrations } from '../../src/db/migrate.js';
import { type NewSession, sessionEvents, sessions } from '../../src/db/schema.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/databases.js';

let nextId = 0;
function session(overrides: Partial<NewSession> = {}): NewSession {
  nextId += 1;
  return {
    id: `s-${Date.now().toString(36)}-${nextId}`,
    repositoryId: 42,
    repositoryFullName: 'octo/widgets',
    cloneUrl: 'https://github.com/octo/widgets.git',
    issueNumber: 7,
    agent: 'claude-code',
    triggeredBy: 'maintainer',
    ...overrides,
  };
}

describe.each(ENGINES)('database on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(engine);
  });
  afterAll(() => t?.cleanup());

  it('applies migrations again without error or change', async () => {
    await runMigrations(t.database);
    const [applied] = await t.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(sql`drizzle.__drizzle_migrations`);
    const journal = JSON.parse(
      readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
    );
    expect(applied?.n).toBe(journal.entries.length);
  });

  it('allows one active session per issue, and a new one once the old is terminal', async () => {
    const { db } = t.database;
    const first = session({ issueNumber: 100 });
    await db.insert(sessions).values(first);
    await expect(db.insert(sessions).values(session({ issueNumber: 100 }))).rejects.toThrow();
    // Another issue, or the same issue number in another repository, is fine.
    await db.insert(sessions).values(session({ issueNumber: 101 }));
    await db.insert(sessions).values(session({ issueNumber: 100, repositoryId: 43 }));

    await db.update(sessions).set({ status: 'merged' }).where(eq(sessions.id, first.id));
    await db.insert(sessions).values(session({ issueNumber: 100 }));
    const rows = await db.select().from(sessions).where(eq(sessions.issueNumber, 100));
    expect(rows.map((r) => r.status).sort()).toEqual(['merged', 'queued', 'queued']);
  });

  it('lets exactly one of many concurrent session inserts for an issue win', async () => {
    const { db } = t.database;
    const attempts = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        db.transaction((tx) => tx.insert(sessions).values(session({ issueNumber: 200 }))),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const rows = await db.select().from(sessions).where(eq(sessions.issueNumber, 200));
    expect(rows).toHaveLength(1);
  });

  it('keeps defaults for counters, attempts and timestamps, and cascades events', async () => {
    const { db } = t.database;
    const s = session({ issueNumber: 300 });
    const [row] = await db.insert(sessions).values(s).returning();
    expect(row).toMatchObject({
      status: 'queued',
      costUsd: 0,
      inputTokens: 0,
      reactionAttempts: {},
    });
    expect(row?.createdAt).toBeInstanceOf(Date);
    await db
      .insert(sessionEvents)
      .values({ sessionId: s.id, kind: 'spawned', data: { branch: 'agent/300-x' } });
    const [event] = await db.select().from(sessionEvents).where(eq(sessionEvents.sessionId, s.id));
    expect(event?.data).toEqual({ branch: 'agent/300-x' });
  });

  it('answers ping while open, and its errors read as unavailable once closed', async () => {
    const other =
      engine === 'pglite' ? await createDatabase({ dataDir: 'memory' }) : await t.connect();
    await other.ping();
    await other.close();
    const error = await other.ping().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeNull();
    expect(isDatabaseUnavailable(error)).toBe(true);
  });
});

describe('embedded PGlite under DATA_DIR', () => {
  it('keeps its data across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ao-pglite-'));
    const first = await createDatabase({ dataDir });
    await runMigrations(first);
    await first.db.insert(sessions).values(session({ issueNumber: 1 }));
    await first.close();

    const second = await createDatabase({ dataDir });
    await runMigrations(second);
    const rows = await second.db.select().from(sessions);
    await second.close();
    expect(rows.map((r) => r.issueNumber)).toEqual([1]);
  }, 120_000); // two starts of the embedded database, the first creating its cluster

  it('is refused to a second open while the first holds the folder, and free once it closes', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ao-pglite-'));
    const first = await createDatabase({ dataDir });
    await expect(createDatabase({ dataDir })).rejects.toThrow(DataFolderLockedError);
    await first.close();
    const second = await createDatabase({ dataDir });
    await second.ping();
    await second.close();
  }, 120_000);

  it('takes no lock with DATABASE_URL: processes share Postgres by design', async () => {
    const t = await openTestDatabase('postgres');
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ao-pglite-'));
    try {
      const [a, b] = await Promise.all(
        [0, 1].map(() => createDatabase({ url: t.url, dataDir, maxConnections: 1 })),
      );
      await Promise.all([a!.ping(), b!.ping()]);
      await Promise.all([a!.close(), b!.close()]);
      expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
    } finally {
      await t.cleanup();
    }
  });
});

describe('isDatabaseUnavailable', () => {
  it('finds a connection error anywhere in the cause chain', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(new Error('query failed', { cause: refused }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
  });

  it('does not mistake a constraint violation for an outage', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new Error('plain'))).toBe(false);
  });
});
