import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_TURN } from '../../src/runner/turn-event-batch.js';
import { REPOSITORY, startWorld, type World } from './harness.js';

// Output floods against the built app on Postgres, watched from outside as an operator would:
// the API keeps answering, the memory stays bounded, the turns end and SIGTERM still stops it.
const FLOOD_AGENT = fileURLToPath(new URL('../fixtures/flood-agent.mjs', import.meta.url));
const LONG = 300_000;
const WAIT = 240_000;
const floodAgent = (...args: string[]) => ({
  firstTurn: [process.execPath, FLOOD_AGENT, ...args],
  nextTurn: [process.execPath, FLOOD_AGENT, ...args],
  output: 'claude-stream-json',
});

/** The server's resident memory, from /proc. */
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB$/m);
  return Number(line?.[1] ?? 0) * 1024;
}

describe('output floods against the built server', () => {
  let w: World;
  let sql: postgres.Sql;
  const watch = { slowestMs: 0, peakRss: 0, polls: 0, failures: [] as string[] };
  let watching: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    w = await startWorld({
      engine: 'postgres',
      operator: {
        agents: {
          lines: floodAgent('lines', '400000'),
          long: floodAgent('long', String(64 * 1024 * 1024)),
          // Still printing when the app is told to stop.
          steady: floodAgent('steady', String(8 * 1024 * 1024), '600'),
        },
      },
      repoConfig: { agent: 'lines' },
    });
    sql = postgres(w.databaseUrl!, { max: 1, onnotice: () => {} });
    // From outside, throughout: how long the API takes to answer, and the server's memory.
    const poll = async () => {
      const started = Date.now();
      try {
        await w.api('/api/sessions?limit=5', { signal: AbortSignal.timeout(30_000) });
      } catch (error) {
        watch.failures.push(String(error));
      }
      watch.slowestMs = Math.max(watch.slowestMs, Date.now() - started);
      watch.peakRss = Math.max(watch.peakRss, rssBytes(w.server.pid));
      watch.polls += 1;
      watching = setTimeout(() => void poll(), 100);
    };
    void poll();
  }, 180_000);
  afterAll(async () => {
    clearTimeout(watching);
    await sql?.end();
    await w?.cleanup();
  }, 60_000);

  // The API lists a session's first thousand events; a flooded turn has more.
  const turnsFinished = async (sessionId: string) => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from turns where session_id = ${sessionId} and status = 'finished'`;
    return row!.n;
  };
  const agentEvents = async (sessionId: string) =>
    sql<{ kind: string; omitted: string | null }[]>`
      select kind, data->>'omittedLines' as omitted from session_events
      where session_id = ${sessionId} and kind like 'agent.%'`;

  it(
    '400,000 lines and a 64 MB line at once: both turns end, the API answers in 2 s, RSS under 1 GB',
    async () => {
      const pollsBefore = watch.polls;
      await w.deliver('issues', w.labelled(60, 'Run the verbose tests'));
      await w.waitForSession(60, ['working', 'waiting'], () => true, WAIT);
      w.github.setFile(REPOSITORY, '.github/agent.yml', 'agent: long\n');
      await w.deliver('issues', w.labelled(61, 'Print the fixture'));

      const lines = await w.waitForSession(
        60,
        ['waiting'],
        async (s) => (await turnsFinished(s.id)) === 1,
        WAIT,
      );
      const long = await w.waitForSession(
        61,
        ['waiting'],
        async (s) => (await turnsFinished(s.id)) === 1,
        WAIT,
      );

      const linesEvents = await agentEvents(lines.id);
      expect(linesEvents.filter((e) => e.kind === 'agent.text')).toHaveLength(
        MAX_EVENTS_PER_TURN + 1,
      );
      expect(linesEvents.find((e) => e.omitted !== null)?.omitted).toBe(
        String(400_000 - MAX_EVENTS_PER_TURN),
      );
      expect(linesEvents.filter((e) => e.kind === 'agent.result')).toHaveLength(1);
      const longEvents = await agentEvents(long.id);
      expect(longEvents.length).toBeLessThan(10);
      expect(longEvents.filter((e) => e.kind === 'agent.result')).toHaveLength(1);
      const [spent] = await sql<{ cost: number }[]>`
      select sum(cost_usd)::float as cost from sessions where id in (${lines.id}, ${long.id})`;
      expect(spent!.cost).toBeCloseTo(0.84);

      expect(watch.failures).toEqual([]);
      // The API was asked throughout the floods, not only before them.
      expect(watch.polls - pollsBefore).toBeGreaterThan(5);
      expect(watch.slowestMs).toBeLessThan(2_000);
      expect(watch.peakRss).toBeLessThan(1024 ** 3);
    },
    LONG,
  );

  it(
    'SIGTERM in the middle of a flood stops the app within 15 s',
    async () => {
      w.github.setFile(REPOSITORY, '.github/agent.yml', 'agent: steady\n');
      await w.deliver('issues', w.labelled(62, 'Once more, verbosely'));
      const s = await w.waitForSession(
        62,
        ['working'],
        async (x) => (await agentEvents(x.id)).length > 0,
        WAIT,
      );
      expect(s.status).toBe('working');
      clearTimeout(watching);

      const started = Date.now();
      w.server.kill('SIGTERM');
      const exited = await Promise.race([
        w.server.exited,
        new Promise<'still running'>((resolve) =>
          setTimeout(() => resolve('still running'), 15_000),
        ),
      ]);
      expect(exited).not.toBe('still running');
      expect(Date.now() - started).toBeLessThan(15_000);
    },
    LONG,
  );
});
