import type { Session, SessionEvent, SessionMessage, SessionStatus } from '../../../db/schema.js';
import type { SessionLimits } from '../../../sessions/budget.js';
import {
  ago,
  cost,
  describeEvent,
  issueTitle,
  issueUrl,
  pullUrl,
  STATUS_LABELS,
  tokens,
} from './format.js';
import { SessionBudget } from './session-budget.js';

export function StatusBadge({ status }: { status: SessionStatus }) {
  return <span class={`badge s-${status}`}>{STATUS_LABELS[status]}</span>;
}

export function Ago({ date, now }: { date: Date; now: Date }) {
  return (
    <time datetime={date.toISOString()} data-ago="" title={date.toISOString()}>
      {ago(date, now)}
    </time>
  );
}

export interface RowProps {
  session: Session;
  last: SessionEvent | undefined;
  githubUrl: string;
  now: Date;
}

/** One row of the sessions table; also sent alone over the stream when the session changes. */
export function SessionRow({ session: s, last, githubUrl, now }: RowProps) {
  const title = issueTitle(s);
  const pull = pullUrl(s, githubUrl);
  return (
    <tr id={`row-${s.id}`} data-created={String(s.createdAt.getTime())}>
      <td class="repo">{s.repositoryFullName}</td>
      <td>
        <a href={`/sessions/${s.id}`} class="issue-title" title={title}>
          {title ?? `Issue #${s.issueNumber}`}
        </a>
        <span class="sub">
          <a href={issueUrl(s, githubUrl)} rel="noreferrer">
            #{s.issueNumber}
          </a>{' '}
          · <span class="mono">{s.id}</span>
        </span>
      </td>
      <td>
        {pull ? (
          <a href={pull} rel="noreferrer">
            #{s.prNumber}
          </a>
        ) : (
          <span class="muted">–</span>
        )}
      </td>
      <td>
        <StatusBadge status={s.status} />
      </td>
      <td>{s.agent}</td>
      <td class="mono">{s.runnerId ?? <span class="muted">–</span>}</td>
      <td class="num">
        <Ago date={s.createdAt} now={now} />
      </td>
      <td class="num">{cost(s.costUsd)}</td>
      <td class="last">
        {last ? (
          <>
            <b>{last.kind}</b> · <Ago date={last.createdAt} now={now} />
            <span class="sub" title={describeEvent(last)}>
              {describeEvent(last)}
            </span>
          </>
        ) : (
          '–'
        )}
      </td>
    </tr>
  );
}

/** The session's heading and facts; replaced whole when the session changes. */
export function SessionSummary({
  session: s,
  githubUrl,
  now,
  limits,
}: {
  session: Session;
  githubUrl: string;
  now: Date;
  /** The limits the session works under. */
  limits: SessionLimits;
}) {
  const title = issueTitle(s);
  const pull = pullUrl(s, githubUrl);
  return (
    <section id="summary" class="panel">
      <h1>{title ?? `Issue #${s.issueNumber}`}</h1>
      <StatusBadge status={s.status} />
      {s.statusReason && <span class="muted"> {s.statusReason}</span>}
      <dl>
        <dt>Session</dt>
        <dd class="mono">{s.id}</dd>
        <dt>Issue</dt>
        <dd>
          <a href={issueUrl(s, githubUrl)} rel="noreferrer">
            {s.repositoryFullName}#{s.issueNumber}
          </a>
        </dd>
        <dt>Pull request</dt>
        <dd>
          {pull ? (
            <a href={pull} rel="noreferrer">
              #{s.prNumber}
            </a>
          ) : (
            'not yet'
          )}
        </dd>
        <dt>Branch</dt>
        <dd class="mono">{s.branch ?? '–'}</dd>
        <dt>Agent</dt>
        <dd>
          {s.agent}
          {s.profile && ` (profile ${s.profile})`}
        </dd>
        <dt>Runner</dt>
        <dd class="mono">{s.runnerId ?? 'not yet'}</dd>
        <dt>Triggered by</dt>
        <dd>@{s.triggeredBy}</dd>
        <dt>Started</dt>
        <dd>
          <Ago date={s.createdAt} now={now} /> ago
        </dd>
        {s.endedAt && (
          <>
            <dt>Ended</dt>
            <dd>
              <Ago date={s.endedAt} now={now} /> ago
            </dd>
          </>
        )}
        <dt>Cost</dt>
        <dd>
          {cost(s.costUsd)}
          {s.inputTokens + s.outputTokens > 0 &&
            ` (${tokens(s.inputTokens)} in, ${tokens(s.outputTokens)} out)`}
        </dd>
        <SessionBudget session={s} limits={limits} />
      </dl>
    </section>
  );
}

function kindClass(kind: string): string {
  if (kind.startsWith('agent.')) return 'kind k-agent';
  if (/fail|error|needs-human|stuck/.test(kind)) return 'kind k-fail';
  return 'kind';
}

/** One entry of the timeline; also sent alone over the stream as it happens. */
export function EventItem({ event, now }: { event: SessionEvent; now: Date }) {
  return (
    <li id={`event-${event.id}`}>
      <span class="muted">
        <Ago date={event.createdAt} now={now} />
      </span>
      <span class={kindClass(event.kind)}>{event.kind}</span>
      <span class="what">{describeEvent(event)}</span>
    </li>
  );
}

/** What people sent the agent, and whether a turn has taken it yet. */
export function MessageList({
  messages,
  turnNumbers,
  now,
}: {
  messages: SessionMessage[];
  /** Turn id → turn number. */
  turnNumbers: Map<number, number>;
  now: Date;
}) {
  return (
    <section id="messages" class="panel">
      <h2>Messages to the agent</h2>
      {messages.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <ul class="messages">
          {messages.map((m) => (
            <li id={`message-${m.id}`}>
              <span class="muted">
                from {m.source}, <Ago date={m.createdAt} now={now} /> ago ·{' '}
              </span>
              {m.turnId === null ? (
                <span class="badge s-waiting">queued</span>
              ) : (
                <span class="badge s-merged">
                  delivered in turn {turnNumbers.get(m.turnId) ?? '?'}
                </span>
              )}
              <div class="body">{m.body}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
