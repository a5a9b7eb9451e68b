import type { Session, Turn } from '../db/schema.js';
import type { RunningTurnStop } from '../sessions/running-turn.js';
import { saveOmittedLines, turnOutputSoFar } from '../sessions/turn-output-store.js';
import { saveTurnOffset } from '../sessions/turn-store.js';
import { tailLines } from '../shared/log-tail.js';
import type { AgentAdapter, AgentEvent } from './adapters/adapter.js';
import type { RunnerDeps } from './runner-deps.js';
import type { RunningTurn, TurnResult } from './runtimes/runtime.js';
import { createTurnEventBatch } from './turn-event-batch.js';
import type { TurnGuard } from './turn-guard.js';
import type { TurnExit } from './turn-verdict.js';

export type ResultEvent = Extract<AgentEvent, { type: 'result' }>;

export interface TurnOutcome extends TurnExit {
  /** The agent's result event for the turn, when it printed one. */
  result: ResultEvent | undefined;
}

const FLUSH_MS = 500;

/**
 * Follows a turn's log into session events until the turn ends. Returns 'detached' when the job
 * is taken away (shutdown, lost lease): the agent keeps running and is adopted later, and the
 * parsed offset is saved so no event is recorded twice. Every line is parsed, but the timeline
 * takes at most MAX_EVENTS_PER_TURN of them (turn-event-batch.ts).
 */
export async function followTurnLog(
  deps: Pick<RunnerDeps, 'db' | 'sessions' | 'store'>,
  input: {
    session: Session;
    turn: Turn;
    adapter: AgentAdapter;
    running: RunningTurn | undefined;
    /** Set when an adopted turn had already ended. */
    finished: TurnResult | undefined;
    signal: AbortSignal;
    /** Watches the running turn; when it trips, the turn is stopped. */
    guard?: TurnGuard | undefined;
  },
): Promise<TurnOutcome | 'detached'> {
  const { session, turn, adapter, running, signal } = input;
  const parse = adapter.createParser();
  let offset = turn.logOffset;
  // A turn followed again after a restart goes on counting towards its cap.
  const soFar =
    turn.logOffset > 0 ? await turnOutputSoFar(deps.db, session.id, turn.number) : undefined;
  const batch = createTurnEventBatch(turn.number, soFar);
  let omittedEventId = soFar?.omittedEventId;
  let sessionRef: string | undefined;
  let result: ResultEvent | undefined;

  const onLine = (line: string, endOffset: number) => {
    offset = endOffset;
    const events = parse(line);
    for (const event of events) {
      if (event.type === 'session') sessionRef = event.ref;
      if (event.type === 'result') {
        result = event;
        input.guard?.noteCost(event.costUsd ?? 0);
      }
    }
    batch.addLine(events);
  };

  // One write at a time; a failed one puts its events back for the next.
  let flushing = Promise.resolve();
  const flush = () => {
    flushing = flushing
      .catch(() => {})
      .then(async () => {
        const taken = batch.take();
        const ref = sessionRef;
        const at = offset;
        sessionRef = undefined;
        try {
          omittedEventId = await deps.db.transaction(async (tx) => {
            await deps.sessions.recordAll(session.id, taken.events, { tx });
            await saveTurnOffset(tx, turn.id, at);
            if (ref) await deps.sessions.recordAgentRef(session.id, ref, { tx });
            return taken.omitted
              ? saveOmittedLines(tx, session.id, omittedEventId, taken.omitted)
              : omittedEventId;
          });
        } catch (error) {
          batch.restore(taken);
          sessionRef ??= ref;
          throw error;
        }
      });
    return flushing;
  };

  const stopTail = new AbortController();
  const tailing = tailLines(turn.logPath, onLine, {
    signal: stopTail.signal,
    fromOffset: turn.logOffset,
  });
  const timer = setInterval(() => void flush().catch(() => {}), FLUSH_MS);

  let ended: TurnResult | 'detached';
  let guardStop: RunningTurnStop | undefined;
  try {
    if (input.finished) {
      ended = input.finished;
    } else {
      const detached = new Promise<'detached'>((resolve) => {
        if (signal.aborted) resolve('detached');
        signal.addEventListener('abort', () => resolve('detached'), { once: true });
      });
      const tripped = input.guard?.tripped ?? new Promise<never>(() => {});
      const first = await Promise.race([
        running!.done,
        detached,
        tripped.then((stop) => ({ stop })),
      ]);
      if (first !== 'detached' && 'stop' in first) {
        guardStop = first.stop;
        await running!.stop();
        ended = await running!.done;
      } else ended = first;
    }
  } finally {
    input.guard?.close();
    clearInterval(timer);
    stopTail.abort();
    await tailing;
    await flush();
  }
  if (ended === 'detached') return 'detached';

  // An adopted turn's result may have been recorded before the restart.
  result ??= (await deps.store.lastAgentResult(session.id, turn.number)) as ResultEvent | undefined;
  return { ...ended, result, guardStop };
}
