import postgres from 'postgres';
import { adminUrl } from './databases.js';

/** Every database test runs on Postgres too; say plainly when it is not there, never skip. */
export default async function checkPostgres() {
  const sql = postgres(adminUrl(), { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${adminUrl()} (${(error as Error).message}). ` +
        'Start it (bash .ci/run does) or point TEST_DATABASE_URL at a server where you may create databases.',
    );
  } finally {
    await sql.end();
  }
}
