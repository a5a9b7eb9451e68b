import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';

export const ENGINES = ['pglite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

/** A server where tests may create and drop databases. */
export function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export interface TestDatabase {
  engine: Engine;
  database: Database;
  /** The postgres:// URL of this test's own database (Postgres only). */
  url: string | undefined;
  /** Another client on the same database (Postgres), e.g. one per concurrent worker. */
  connect(options?: { maxConnections?: number }): Promise<Database>;
  cleanup(): Promise<void>;
}

/** A fresh, migrated database: in-memory PGlite, or a new database on the Postgres server. */
export async function openTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const database = await createDatabase({ dataDir: 'memory' });
    await runMigrations(database);
    return {
      engine,
      database,
      url: undefined,
      connect: async () => database,
      cleanup: () => database.close(),
    };
  }
  const name = `ao_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const database = await createDatabase({ url: url.href, maxConnections: 5 });
  await runMigrations(database);
  const extra: Database[] = [];
  return {
    engine,
    database,
    url: url.href,
    async connect(options) {
      const client = await createDatabase({
        url: url.href,
        maxConnections: options?.maxConnections ?? 2,
      });
      extra.push(client);
      return client;
    },
    async cleanup() {
      await Promise.all([database, ...extra].map((d) => d.close().catch(() => {})));
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
