import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Session, SessionEvent } from '../../db/schema.js';
import { isTerminal } from '../../sessions/session-status.js';
import { tailLines } from '../../shared/log-tail.js';
import { sessionLimits } from '../repository-spend.js';
import { eventsOf, findSession, messagesOf, turnsOf } from '../session-queries.js';
import { followLiveFeed, updateChain } from './live-stream.js';
import { outputPlace } from './output-tail.js';
import { render, type StreamDeps } from './session-list-stream.js';
import { cleanLine } from './views/format.js';
import { EventItem, MessageList, SessionSummary } from './views/parts.js';
import { outputNote } from './views/session-page.js';

/** Where the page (or the reconnecting stream) left off. */
export interface SessionStreamPosition {
  /** The last event shown. */
  after: number;
  /** The turn whose output is shown (0: none), and the byte offset shown up to. */
  turn: number;
  offset: number;
}

/** Last-Event-ID, as this stream writes it: "<event id>:<turn>:<offset>". */
export function positionFromLastEventId(value: string | undefined): SessionStreamPosition | null {
  const match = /^(\d+):(\d+):(\d+)$/.exec(value ?? '');
  return match
    ? { after: Number(match[1]), turn: Number(match[2]), offset: Number(match[3]) }
    : null;
}

const OUTPUT_BATCH_MS = 100;

/**
 * One session's stream: the session's facts when they change, each new event, the messages
 * when one is queued or delivered, and the agent's output as the runner's log grows (when the
 * log is on this host). Every message carries the position, so a reconnect resumes there.
 */
export function streamSession(
  c: Context,
  deps: StreamDeps,
  sessionId: string,
  from: SessionStreamPosition,
) {
  const { db } = deps.database;
  return streamSSE(c, async (stream) => {
    let { after: lastEvent, turn: outputTurn, offset: outputOffset } = from;
    const id = () => `${lastEvent}:${outputTurn}:${outputOffset}`;
    const send = (event: string, data: unknown) =>
      stream.writeSSE({ event, data: JSON.stringify(data), id: id() });

    const { enqueue, settled } = updateChain(deps.log, { sessionId });

    const sendSession = async (session: Session) => {
      const html = await render(
        <SessionSummary
          session={session}
          githubUrl={deps.githubUrl}
          now={deps.now()}
          limits={sessionLimits(deps.limits, session)}
        />,
      );
      await send('session', { html, ended: isTerminal(session.status) });
    };
    const sendEvents = async (events: SessionEvent[]) => {
      for (const event of events) {
        if (event.id <= lastEvent) continue;
        lastEvent = event.id;
        await send('event', {
          id: event.id,
          html: await render(<EventItem event={event} now={deps.now()} />),
        });
      }
    };
    const sendMessages = async () => {
      const [messages, turns] = await Promise.all([
        messagesOf(db, sessionId),
        turnsOf(db, sessionId),
      ]);
      const html = await render(
        <MessageList
          messages={messages}
          turnNumbers={new Map(turns.map((t) => [t.id, t.number]))}
          now={deps.now()}
        />,
      );
      await send('messages', { html });
    };

    // The output: lines gathered from the tail, sent in small batches.
    let tail: { turn: number; stop: AbortController; done: Promise<number> } | undefined;
    let batch: { turn: number; lines: string[]; offset: number } | undefined;
    let batchTimer: NodeJS.Timeout | undefined;
    const sendBatch = async () => {
      if (batchTimer) clearTimeout(batchTimer);
      batchTimer = undefined;
      const lines = batch;
      batch = undefined;
      if (!lines || lines.turn !== outputTurn) return;
      outputOffset = lines.offset;
      await send('output', { turn: lines.turn, lines: lines.lines });
    };
    const follow = async () => {
      const latest = (await turnsOf(db, sessionId)).at(-1);
      if (!latest || tail?.turn === latest.number) return;
      const place = outputPlace(latest);
      if (tail) {
        tail.stop.abort();
        await tail.done;
        await sendBatch();
        tail = undefined;
      }
      if (latest.number !== outputTurn) {
        outputTurn = latest.number;
        outputOffset = 0;
        await send('output-turn', {
          turn: latest.number,
          here: place.kind === 'here',
          note: outputNote(place),
        });
      }
      if (place.kind !== 'here') return;
      const stop = new AbortController();
      const turn = latest.number;
      const done = tailLines(
        latest.logPath,
        (line, endOffset) => {
          batch ??= { turn, lines: [], offset: endOffset };
          batch.lines.push(cleanLine(line));
          batch.offset = endOffset;
          batchTimer ??= setTimeout(() => enqueue(sendBatch), OUTPUT_BATCH_MS);
        },
        { signal: stop.signal, fromOffset: outputOffset },
      ).catch((error) => {
        deps.log.warn({ err: error, sessionId }, 'could not follow the turn log');
        return outputOffset;
      });
      tail = { turn, stop, done };
    };

    try {
      await followLiveFeed(stream, deps.liveFeed, enqueue, {
        // What happened since the page was made (or the stream last sent something).
        onReady() {
          enqueue(async () => {
            const session = await findSession(db, sessionId);
            if (session) await sendSession(session);
            await sendEvents(await eventsOf(db, sessionId, { after: lastEvent }));
            await sendMessages();
            await follow();
          });
        },
        onChange(change) {
          const session = change.sessions.find((s) => s.id === sessionId);
          const events = change.events.filter((e) => e.sessionId === sessionId);
          if (!session && events.length === 0) return;
          enqueue(async () => {
            if (session) await sendSession(session);
            await sendEvents(events);
            if (events.some((e) => e.kind.startsWith('message'))) await sendMessages();
            await follow();
          });
        },
      });
    } finally {
      await settled();
      if (batchTimer) clearTimeout(batchTimer);
      tail?.stop.abort();
      await tail?.done;
    }
  });
}
