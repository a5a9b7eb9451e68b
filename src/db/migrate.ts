import { fileURLToPath } from 'node:url';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { Database } from './client.js';

/** The committed SQL migrations, beside src/ and dist/ alike. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

// Arbitrary constant: replicas starting together take turns migrating.
const MIGRATION_LOCK = 0x6167_6e74;

/** Applies every migration not yet applied; safe to run from several replicas at once. */
export async function runMigrations(database: Database): Promise<void> {
  await database.withLock(MIGRATION_LOCK, async (db) => {
    const config = { migrationsFolder: MIGRATIONS_FOLDER };
    if (database.kind === 'pglite') {
      await migratePglite(db as unknown as PgliteDatabase, config);
    } else {
      await migratePostgres(db as unknown as PostgresJsDatabase, config);
    }
  });
}
