import type { AgentEvent } from './adapters/adapter.js';

/**
 * Timeline events one turn's output may add. Past it, the output's lines are only counted, in
 * one event updated in place; the turn's log keeps them. Results and session references are
 * always recorded: cost, tokens and the summary come from the result.
 */
export const MAX_EVENTS_PER_TURN = 5_000;

const MAX_TEXT = 4_000;
const ALWAYS_RECORDED = new Set<AgentEvent['type']>(['result', 'session']);

export interface RecordedEvent {
  kind: string;
  data: Record<string, unknown>;
}

/** What the turn's output adds to the timeline, as it comes and when it is written. */
export interface TurnEventBatch {
  /** The events parsed from one output line. */
  addLine(events: AgentEvent[]): void;
  /**
   * Takes what is to be written since the last take: the new events, and the data of the event
   * counting the lines past the cap when that count changed.
   */
  take(): TakenEvents;
  /** Puts back what a failed write took, to be written with the next. */
  restore(taken: TakenEvents): void;
}

export interface TakenEvents {
  events: RecordedEvent[];
  omitted: Record<string, unknown> | undefined;
}

/** A turn's events so far, when it is followed again after a restart. */
export interface TurnEventsSoFar {
  recorded: number;
  omittedLines: number;
}

export function createTurnEventBatch(
  turn: number,
  soFar: TurnEventsSoFar = { recorded: 0, omittedLines: 0 },
  maxEvents = MAX_EVENTS_PER_TURN,
): TurnEventBatch {
  let recorded = soFar.recorded;
  let omittedLines = soFar.omittedLines;
  let omittedChanged = false;
  let pending: RecordedEvent[] = [];

  return {
    addLine(events) {
      let omitted = false;
      for (const event of events) {
        if (!ALWAYS_RECORDED.has(event.type)) {
          if (recorded >= maxEvents) {
            omitted = true;
            continue;
          }
          recorded += 1;
        }
        pending.push({ kind: `agent.${event.type}`, data: { turn, ...clip(event) } });
      }
      if (omitted) {
        omittedLines += 1;
        omittedChanged = true;
      }
    },
    take() {
      const events = pending;
      pending = [];
      const omitted = omittedChanged ? omittedData(turn, omittedLines) : undefined;
      omittedChanged = false;
      return { events, omitted };
    },
    restore(taken) {
      pending = [...taken.events, ...pending];
      if (taken.omitted) omittedChanged = true;
    },
  };
}

/** The data of the event that stands for the lines past the cap (an `agent.text`). */
export function omittedData(turn: number, lines: number): Record<string, unknown> {
  const what = lines === 1 ? '1 more line' : `${lines.toLocaleString('en-US')} more lines`;
  return {
    turn,
    text: `… ${what} of output, not kept in the timeline; see the turn's log`,
    omittedLines: lines,
  };
}

function clip(event: AgentEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { ...event };
  for (const key of ['text', 'summary'] as const) {
    const value = data[key];
    if (typeof value === 'string' && value.length > MAX_TEXT)
      data[key] = `${value.slice(0, MAX_TEXT)}… [truncated]`;
  }
  return data;
}
