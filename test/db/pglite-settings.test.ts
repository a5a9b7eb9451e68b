import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.js';
import { initPgliteDataDir } from '../../src/db/pglite-initdb.js';
import { PGLITE_SETTINGS, pgliteOptions } from '../../src/db/pglite-settings.js';

async function show(database: Database, name: string): Promise<string> {
  const result = await database.db.execute(sql.raw(`show ${name}`));
  const rows = (result as unknown as { rows: Record<string, string>[] }).rows;
  return Object.values(rows[0]!)[0]!;
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-pglite-settings-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Creating a cluster takes seconds, many more on a busy machine: the tests that do wait longer.
describe('the embedded PGlite', () => {
  it("keeps PGlite's own start parameters, durability included, and adds only the settings", () => {
    const { startParams, initDbStartParams } = pgliteOptions();
    expect(startParams!.slice(0, PGlite.defaultStartParams.length)).toEqual(
      PGlite.defaultStartParams,
    );
    expect(startParams!.slice(PGlite.defaultStartParams.length)).toEqual(initDbStartParams);
    expect(initDbStartParams).toEqual(['-c', 'shared_buffers=16MB']);
  });

  it('runs in memory with bounded shared buffers and the WAL and durability unchanged', {
    timeout: 120_000,
  }, async () => {
    const database = await createDatabase({ dataDir: 'memory' });
    try {
      expect(await show(database, 'shared_buffers')).toBe(PGLITE_SETTINGS.shared_buffers);
      // wal_buffers is derived from shared_buffers (1/32), not set.
      expect(await show(database, 'wal_buffers')).toBe('512kB');
      expect(await show(database, 'wal_level')).toBe('replica');
      expect(await show(database, 'synchronous_commit')).toBe('on');
      expect(await show(database, 'full_page_writes')).toBe('on');
      // PGlite's own `-F`, as before.
      expect(await show(database, 'fsync')).toBe('off');
    } finally {
      await database.close();
    }
  });

  it('creates a new cluster in a child process, bounded, and keeps to it whatever the file says', {
    timeout: 180_000,
  }, async () => {
    const dataDir = tempDir();
    const location = path.join(dataDir, 'pglite');
    const database = await createDatabase({ dataDir });
    try {
      expect(await show(database, 'shared_buffers')).toBe('16MB');
    } finally {
      await database.close();
    }
    const conf = path.join(location, 'postgresql.conf');
    expect(readFileSync(conf, 'utf8')).toMatch(/^shared_buffers = 16MB/m);
    // It is there now: nothing to create.
    expect(await initPgliteDataDir(location, pgliteOptions())).toBe(false);

    // As a cluster created before these settings: initdb's default in its file.
    writeFileSync(
      conf,
      readFileSync(conf, 'utf8').replace(/^shared_buffers = .*$/m, 'shared_buffers = 128MB'),
    );
    const again = await createDatabase({ dataDir });
    try {
      expect(await show(again, 'shared_buffers')).toBe('16MB');
    } finally {
      await again.close();
    }
  });

  it('says what to do when the cluster cannot be created', async () => {
    const file = path.join(tempDir(), 'not-a-folder');
    writeFileSync(file, '');
    await expect(initPgliteDataDir(path.join(file, 'pglite'), pgliteOptions())).rejects.toThrow(
      /Could not create the embedded database .*DATA_DIR is writable/s,
    );
  });
});
