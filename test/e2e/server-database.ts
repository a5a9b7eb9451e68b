import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { adminUrl } from '../helpers/databases.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

export type ServerDatabase = Awaited<ReturnType<typeof createServerDatabase>>;

/**
 * The server's database on the given engine. PGlite lives in the server's DATA_DIR, so there is
 * nothing to make; Postgres gets a fresh database, reached through a TCP proxy the test can cut
 * when `proxy` is set.
 */
export async function createServerDatabase(engine: 'pglite' | 'postgres', proxied = false) {
  if (engine === 'pglite') return { url: undefined, proxy: undefined, drop: async () => {} };
  const name = `ao_e2e_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
  if (proxied) {
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
  }
  return {
    url: url.href,
    proxy,
    /** Closes the proxy and drops the database, whoever is still connected. */
    async drop() {
      await proxy?.close();
      const sql = postgres(adminUrl(), { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}
