import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

/**
 * Postgres settings of the embedded PGlite, where they differ from initdb's. Postgres sizes its
 * shared buffers for a server of its own (128 MB); inside this process every page of them
 * ends up resident in the WebAssembly heap, which never shrinks. 16 MB holds this app's working
 * set many times over (a database of 1,000 active sessions is about 10 MB). wal_buffers follows
 * (1/32 of shared_buffers: 512 kB instead of 4 MB); work_mem and maintenance_work_mem stay
 * Postgres's, as they are limits, not allocations.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
};

export type PgliteStartOptions = Pick<PGliteOptions, 'startParams' | 'initDbStartParams'>;

/**
 * PGlite options applying settings when initdb creates a cluster (so its postgresql.conf says
 * so) and at every start (so a cluster created before keeps to them too). PGlite's own start
 * parameters come first and stay: durability (its `-F`, the WAL) is exactly PGlite's.
 */
export function pgliteOptions(settings = PGLITE_SETTINGS): PgliteStartOptions {
  const flags = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  return { startParams: [...PGlite.defaultStartParams, ...flags], initDbStartParams: flags };
}
