import type { Session, SessionEvent, SessionMessage, Turn } from '../../../db/schema.js';
import type { SessionLimits } from '../../../sessions/budget.js';
import { isTerminal } from '../../../sessions/session-status.js';
import type { OutputPlace } from '../output-tail.js';
import { Layout } from './layout.js';
import { EventItem, MessageList, SessionSummary } from './parts.js';

export interface SessionPageProps {
  session: Session;
  /** The limits the session works under, for its budget. */
  limits: SessionLimits;
  events: SessionEvent[];
  messages: SessionMessage[];
  turns: Turn[];
  output: { place: OutputPlace; lines: string[] };
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
  /** A message to show back in the form (it was refused, and must not be lost). */
  draft?: string | undefined;
  githubUrl: string;
  now: Date;
  csrfToken: string;
  live: string;
}

/** What the output panel says about where the output is. */
export function outputNote(place: OutputPlace): string {
  switch (place.kind) {
    case 'none':
      return 'No turn has started yet.';
    case 'here':
      return `Output of turn ${place.turn.number}:`;
    case 'elsewhere':
      return `Turn ${place.turn.number} runs on runner ${place.turn.runnerId}, not on this host: its output is not shown here, its events are in the timeline.`;
  }
}

/** Whether a turn of the session started without a sandbox (its `turn-started` event says so). */
function ranUnsandboxed(events: readonly SessionEvent[]): boolean {
  return events.some(
    (e) => e.kind === 'turn-started' && (e.data as { sandbox?: unknown }).sandbox === 'off',
  );
}

/** One session: facts, actions, messages, the timeline and the agent's output. */
export function SessionPage(p: SessionPageProps) {
  const { session } = p;
  const ended = isTerminal(session.status);
  const turnNumbers = new Map(p.turns.map((t) => [t.id, t.number]));
  return (
    <Layout title={`Session ${session.id}`} live={p.live} csrfToken={p.csrfToken}>
      <p class="muted">
        <a href="/sessions">Sessions</a> / <span class="mono">{session.id}</span>
      </p>
      {p.flash && <p class={`flash ${p.flash.kind}`}>{p.flash.text}</p>}
      {ranUnsandboxed(p.events) && (
        <p class="flash error">
          This session's turns ran without a sandbox (SANDBOX=off): its agent had this app's files,
          environment and network.
        </p>
      )}
      <div class="layout">
        <div class="side">
          <SessionSummary session={session} githubUrl={p.githubUrl} now={p.now} limits={p.limits} />
          <section id="actions" class="panel" hidden={ended}>
            <h2>Tell the agent</h2>
            <form method="post" action={`/sessions/${session.id}/messages`}>
              <input type="hidden" name="_csrf" value={p.csrfToken} />
              <textarea
                name="body"
                required
                maxlength={65_536}
                placeholder="Delivered as the agent's next turn (queued while a turn runs)"
              >
                {p.draft ?? ''}
              </textarea>
              <p>
                <button type="submit" class="primary">
                  Send message
                </button>
              </p>
            </form>
            <form
              method="post"
              action={`/sessions/${session.id}/stop`}
              data-confirm="Stop this session? Its running turn is stopped and its worktree removed."
            >
              <input type="hidden" name="_csrf" value={p.csrfToken} />
              <button type="submit" class="danger">
                Stop session
              </button>
            </form>
          </section>
          <MessageList messages={p.messages} turnNumbers={turnNumbers} now={p.now} />
        </div>
        <div class="main">
          <section class="panel">
            <h2>Timeline</h2>
            <ol id="timeline">
              {p.events.length === 0 && (
                <li id="no-events" class="muted">
                  No events yet.
                </li>
              )}
              {p.events.map((event) => (
                <EventItem event={event} now={p.now} />
              ))}
            </ol>
          </section>
          <section class="panel">
            <h2>Agent output</h2>
            <p id="output-note" class="muted">
              {outputNote(p.output.place)}
            </p>
            <pre id="output">
              {p.output.lines.length > 0 ? `${p.output.lines.join('\n')}\n` : ''}
            </pre>
          </section>
        </div>
      </div>
    </Layout>
  );
}
