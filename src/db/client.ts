import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { useBaselineWasmCompiler } from './baseline-wasm-compiler.js';
import { type DataFolderLock, lockDataFolder } from './data-folder-lock.js';
import { initPgliteDataDir } from './pglite-initdb.js';
import { pgliteOptions } from './pglite-settings.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything that runs queries: the database itself or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Db;
  /** Calls onNotify for every NOTIFY on channel; resolves to an unlisten function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Runs fn on one dedicated connection while holding a Postgres advisory lock. */
  withLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  /** Throws when the database cannot answer a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent an embedded PGlite is used. */
  url?: string | undefined;
  /**
   * Where PGlite keeps its files; 'memory' keeps nothing (tests). The folder is locked for this
   * process until close() (DataFolderLockedError while another process holds it).
   */
  dataDir?: string | undefined;
  /** Connections in the postgres.js pool. */
  maxConnections?: number;
}

/** One factory for both engines: postgres.js when a URL is given, embedded PGlite otherwise. */
export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url
    ? createPostgres(options.url, options.maxConnections ?? 10)
    : createPglite(options.dataDir);
}

function createPostgres(url: string, max: number): Database {
  const client = postgres(url, {
    max,
    connect_timeout: 5,
    idle_timeout: 30,
    onnotice: () => {},
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    async listen(channel, onNotify) {
      const { unlisten } = await client.listen(channel, onNotify);
      return unlisten;
    },
    async withLock(key, fn) {
      // A one-connection client: the lock and everything under it share that session.
      const single = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
      try {
        await single`select pg_advisory_lock(${key})`;
        return await fn(drizzlePostgres(single, { schema }) as unknown as Db);
      } finally {
        await single.end({ timeout: 5 });
      }
    },
    async ping() {
      await client`select 1`;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

async function createPglite(dataDir: string | undefined): Promise<Database> {
  useBaselineWasmCompiler();
  const options = pgliteOptions();
  const onDisk = dataDir && dataDir !== 'memory' ? dataDir : undefined;
  // Two processes on one PGlite folder corrupt it (PGlite aborts): the first one keeps it.
  const lock: DataFolderLock | undefined = onDisk ? await lockDataFolder(onDisk) : undefined;
  let client: PGlite;
  try {
    if (onDisk) {
      const location = path.join(onDisk, 'pglite');
      mkdirSync(location, { recursive: true });
      await initPgliteDataDir(location, options);
      client = new PGlite(location, options);
    } else {
      // In memory (tests) there is nothing a child could hand over: initdb runs here.
      client = new PGlite(options);
    }
    await client.waitReady;
  } catch (error) {
    lock?.release();
    throw error;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    listen: (channel, onNotify) => client.listen(channel, onNotify),
    // PGlite is one connection in this process: there is nobody to race with.
    withLock: (_key, fn) => fn(db),
    async ping() {
      await client.query('select 1');
    },
    async close() {
      try {
        if (!client.closed) await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/** True when an error (or any error in its cause chain) means the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 8; depth++) {
    if (typeof e !== 'object') return false;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (unavailableCodes.has(code) || code.startsWith('08'))) {
      return true;
    }
    if (typeof message === 'string' && message.includes('PGlite is closed')) return true;
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
