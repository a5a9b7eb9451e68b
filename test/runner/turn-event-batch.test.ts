import { describe, expect, it } from 'vitest';
import { createTurnEventBatch, MAX_EVENTS_PER_TURN } from '../../src/runner/turn-event-batch.js';

const text = (t: string) => ({ type: 'text' as const, text: t });
const result = { type: 'result' as const, isError: false, summary: 'done', costUsd: 0.1 };

describe('a turn’s events on the timeline', () => {
  it('takes up to the cap, then counts lines in one event, and always takes results', () => {
    const batch = createTurnEventBatch(2, undefined, 3);
    for (const line of ['a', 'b', 'c', 'd', 'e']) batch.addLine([text(line)]);
    batch.addLine([result]);
    const taken = batch.take();
    expect(taken.events.map((e) => [e.kind, e.data.text ?? e.data.summary])).toEqual([
      ['agent.text', 'a'],
      ['agent.text', 'b'],
      ['agent.text', 'c'],
      ['agent.result', 'done'],
    ]);
    expect(taken.omitted).toEqual({
      turn: 2,
      omittedLines: 2,
      text: "… 2 more lines of output, not kept in the timeline; see the turn's log",
    });
    // Nothing new: nothing to write, the count unchanged.
    expect(batch.take()).toEqual({ events: [], omitted: undefined });
    batch.addLine([text('f')]);
    expect(batch.take().omitted).toMatchObject({ omittedLines: 3 });
  });

  it('goes on from what a turn recorded before a restart', () => {
    const batch = createTurnEventBatch(1, { recorded: 3, omittedLines: 10 }, 3);
    batch.addLine([text('more')]);
    expect(batch.take()).toMatchObject({ events: [], omitted: { omittedLines: 11 } });
  });

  it('gives back what a failed write took, in order, before what came since', () => {
    const batch = createTurnEventBatch(1, undefined, 1);
    batch.addLine([text('a')]);
    batch.addLine([text('b')]);
    const failed = batch.take();
    batch.addLine([result]);
    batch.restore(failed);
    const again = batch.take();
    expect(again.events.map((e) => e.kind)).toEqual(['agent.text', 'agent.result']);
    expect(again.omitted).toMatchObject({ omittedLines: 1 });
  });

  it('clips long texts and caps at 5,000 by default', () => {
    const batch = createTurnEventBatch(1);
    batch.addLine([text('y'.repeat(10_000))]);
    expect(String(batch.take().events[0]!.data.text)).toHaveLength(4_000 + '… [truncated]'.length);
    expect(MAX_EVENTS_PER_TURN).toBe(5_000);
  });
});
