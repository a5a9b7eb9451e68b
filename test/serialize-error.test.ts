import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionEvents } from '../src/db/schema.js';
import { createLogger } from '../src/logger.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './helpers/databases.js';

/** The app's logger writing its JSON lines into an array. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).trim().split('\n'));
      done();
    },
  });
  return { log: createLogger({ logLevel: 'info' }, stream), lines };
}

describe.each(ENGINES)('a database error in the log, on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(engine);
  });
  afterAll(() => t?.cleanup());

  it('has the message, the code and the statement, never the parameters, on one short line', async () => {
    // A batch of 2,000 events for a session that does not exist: a foreign-key violation.
    const rows = Array.from({ length: 2_000 }, (_, i) => ({
      sessionId: 'no-such-session',
      kind: 'agent.text',
      data: { text: `secret-output-${i} ${'x'.repeat(200)}` },
    }));
    const error = await t.database.db
      .insert(sessionEvents)
      .values(rows)
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);

    const { log, lines } = capturedLogger();
    log.error({ err: error, jobId: 7 }, 'job failed');
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toContain('secret-output');
    expect(line.length).toBeLessThan(20_000);
    const { err } = JSON.parse(line) as { err: Record<string, unknown> };
    expect(err.message).toMatch(/^Failed query: insert into "session_events"/);
    expect(err.code).toBe('23503');
    expect(err).not.toHaveProperty('params');
  });

  it('keeps the message and stack of an error a database error caused', async () => {
    const error = await t.database.db
      .execute(sql`select 1 from no_such_table`)
      .catch((e: unknown) => e);
    const { log, lines } = capturedLogger();
    log.warn({ err: new Error('GitHub said no', { cause: error }) }, 'call failed');
    const { err } = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    expect(err.message).toMatch(/^GitHub said no: Failed query: select 1 from no_such_table/);
    expect(err.type).toBe('Error');
    expect(String(err.stack)).toContain('GitHub said no');
  });
});
