import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_HEAD_BYTES, LOG_TAIL_BYTES } from '../../src/runner/runtimes/log-cap.js';
import { MAX_EVENTS_PER_TURN } from '../../src/runner/turn-event-batch.js';
import { type Harness, startHarness } from './harness.js';

// Agents that flood their output, through the real runner and real processes: the turn ends,
// the timeline takes a bounded share of the output, and the result is still counted.
const FLOOD_AGENT = fileURLToPath(new URL('../fixtures/flood-agent.mjs', import.meta.url));
const LINES = 400_000;
const LONG_LINE = 64 * 1024 * 1024;
const LONG = 240_000;

const floodAgent = (...args: string[]) => ({
  firstTurn: [process.execPath, FLOOD_AGENT, ...args],
  nextTurn: [process.execPath, FLOOD_AGENT, ...args],
  output: 'claude-stream-json',
});

describe('an agent that floods its output', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      operator: {
        agents: {
          lines: floodAgent('lines', String(LINES)),
          long: floodAgent('long', String(LONG_LINE)),
          steady: floodAgent('steady', String(LOG_HEAD_BYTES + 1000), '6'),
        },
        // The steady agent prints for 6 s after its log's head is full: a stall is 3 s.
        limits: { stallMinutes: 0.05 },
      },
    });
  });
  afterAll(() => h?.cleanup());

  const agentEventsOf = async (id: string) =>
    (await h.eventsOf(id)).filter((e) => e.kind.startsWith('agent.'));

  const expectResultCounted = async (id: string, mode: string) => {
    const s = await h.session(id);
    expect(s.costUsd).toBeCloseTo(0.42);
    const [turn] = await h.turnsOf(id);
    expect(turn).toMatchObject({ status: 'finished', outcome: 'ok', exitCode: 0 });
    expect(turn!.summary).toBe(`Flooded (${mode}) and done.`);
    const results = (await agentEventsOf(id)).filter((e) => e.kind === 'agent.result');
    expect(results.map((e) => e.data)).toEqual([
      expect.objectContaining({ turn: 1, costUsd: 0.42, summary: `Flooded (${mode}) and done.` }),
    ]);
  };

  it(
    '400,000 lines: the turn ends, the timeline keeps 5,000 and counts the rest in one event',
    async () => {
      const created = await h.createSession({ agent: 'lines' });
      const s = await h.waitFor(created.id, ['waiting'], {
        timeoutMs: LONG,
        until: () => h.turnsDone(created.id, 1),
      });
      expect(s.status).toBe('waiting');
      await expectResultCounted(s.id, 'lines');

      const events = await agentEventsOf(s.id);
      const texts = events.filter((e) => e.kind === 'agent.text');
      const omitted = texts.filter((e) => 'omittedLines' in e.data);
      expect(omitted.map((e) => e.data)).toEqual([
        {
          turn: 1,
          omittedLines: LINES - MAX_EVENTS_PER_TURN,
          text: "… 395,000 more lines of output, not kept in the timeline; see the turn's log",
        },
      ]);
      expect(texts.length).toBe(MAX_EVENTS_PER_TURN + 1);
      expect(texts[0]!.data).toMatchObject({ text: '1' });
      expect(texts[MAX_EVENTS_PER_TURN - 1]!.data).toMatchObject({
        text: String(MAX_EVENTS_PER_TURN),
      });
      // The session reference, the lines kept, the count of the rest, the result.
      expect(events.length).toBe(MAX_EVENTS_PER_TURN + 3);
    },
    LONG,
  );

  it(
    'a 64 MB line: the turn ends, its log is bounded, the result after the line is counted',
    async () => {
      const created = await h.createSession({ agent: 'long' });
      const s = await h.waitFor(created.id, ['waiting'], {
        timeoutMs: LONG,
        until: () => h.turnsDone(created.id, 1),
      });
      await expectResultCounted(s.id, 'long');

      const [turn] = await h.turnsOf(s.id);
      const { size } = await stat(turn!.logPath);
      expect(size).toBeLessThan(LOG_HEAD_BYTES + LOG_TAIL_BYTES + 1024);
      // The line's head, the note of what the log cut, the line's tail: each a short event.
      const texts = (await agentEventsOf(s.id)).filter((e) => e.kind === 'agent.text');
      const lines = texts.map((e) => String(e.data.text));
      expect(lines).toHaveLength(3);
      expect(lines[0]!.startsWith('x'.repeat(1000))).toBe(true);
      expect(lines[1]).toMatch(
        /^\[agent-orchestrator: \d+ bytes of output cut here; the log keeps/,
      );
      expect(lines[2]!.startsWith('x'.repeat(1000))).toBe(true);
      for (const line of lines) expect(line.length).toBeLessThan(4_100);
    },
    LONG,
  );

  it(
    'an agent still printing once its log head is full is not taken for stalled',
    async () => {
      const created = await h.createSession({ agent: 'steady' });
      const s = await h.waitFor(created.id, ['waiting', 'needs_human'], {
        timeoutMs: LONG,
        until: () => h.turnsDone(created.id, 1),
      });
      expect(s.status).toBe('waiting');
      await expectResultCounted(s.id, 'steady');
      const [turn] = await h.turnsOf(s.id);
      expect(turn!.endedAt!.getTime() - turn!.startedAt.getTime()).toBeGreaterThan(5_000);
    },
    LONG,
  );
});
