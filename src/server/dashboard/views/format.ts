import type { Session, SessionEvent, SessionStatus } from '../../../db/schema.js';
import { couldNot, deadJobSchema, JOB_DEAD_EVENT } from '../../../sessions/dead-job.js';

/** "12s", "5m", "3h", "2d": how long ago, for tables. */
export function ago(date: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - date.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function cost(usd: number): string {
  return usd > 0 && usd < 0.01 ? '<$0.01' : `$${usd.toFixed(2)}`;
}

/** "$1.20 of $5.00" against a limit; "$1.20, no limit" without one. */
export function costAgainst(usd: number, limit: number | undefined): string {
  return limit === undefined ? `${cost(usd)}, no limit` : `${cost(usd)} of ${cost(limit)}`;
}

/** "3 of 20 turns" against a limit; "3 turns, no limit" without one. */
export function countAgainst(n: number, limit: number | undefined, unit: string): string {
  const of = (k: number) => `${unit}${k === 1 ? '' : 's'}`;
  return limit === undefined ? `${n} ${of(n)}, no limit` : `${n} of ${limit} ${of(limit)}`;
}

export function tokens(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export const STATUS_LABELS: Record<SessionStatus, string> = {
  queued: 'queued',
  spawning: 'spawning',
  working: 'working',
  waiting: 'waiting',
  needs_human: 'needs human',
  merged: 'merged',
  closed: 'closed',
  stopped: 'stopped',
  failed: 'failed',
};

/** The issue's title as it was at trigger time, when the session recorded one. */
export function issueTitle(session: Session): string | undefined {
  const title = (session.context as { issue?: { title?: unknown } }).issue?.title;
  return typeof title === 'string' && title.trim() ? title : undefined;
}

/**
 * The web address of GitHub for this session: the origin of the issue's recorded address
 * (so GitHub Enterprise links work), else the configured one. Only http(s) addresses are used.
 */
function githubOrigin(session: Session, fallback: string): string {
  const url = (session.context as { issue?: { url?: unknown } }).issue?.url;
  if (typeof url === 'string') {
    const match = /^(https?:\/\/[^/\s"'<>]+)\//.exec(url);
    if (match) return match[1]!;
  }
  return fallback;
}

export function issueUrl(session: Session, githubUrl: string): string {
  return `${githubOrigin(session, githubUrl)}/${session.repositoryFullName}/issues/${session.issueNumber}`;
}

export function pullUrl(session: Session, githubUrl: string): string | undefined {
  if (!session.prNumber) return undefined;
  return `${githubOrigin(session, githubUrl)}/${session.repositoryFullName}/pull/${session.prNumber}`;
}

const MAX_SUMMARY = 600;

function clip(text: string, max = MAX_SUMMARY): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** One line saying what an event means, from its data (plain text; the view escapes it). */
export function describeEvent(event: Pick<SessionEvent, 'kind' | 'data'>): string {
  const d = event.data;
  const turn = typeof d.turn === 'number' ? `turn ${d.turn}: ` : '';
  switch (event.kind) {
    case 'created':
      return `triggered by @${scalar(d.triggeredBy) ?? '?'}, agent ${scalar(d.agent) ?? '?'}`;
    case 'agent.text':
      return `${turn}${clip(scalar(d.text) ?? '')}`;
    case 'agent.tool_use':
      return `${turn}${scalar(d.name) ?? 'tool'}${d.summary ? ` ${clip(String(d.summary), 200)}` : ''}`;
    case 'agent.result': {
      const spent = typeof d.costUsd === 'number' ? ` (${cost(d.costUsd)})` : '';
      return `${turn}${d.isError ? 'error: ' : ''}${clip(scalar(d.summary) ?? 'done')}${spent}`;
    }
    case 'agent.session':
      return `${turn}agent session ${scalar(d.ref) ?? ''}`;
    case 'message-queued':
      return `message from ${scalar(d.source) ?? '?'} queued for the next turn`;
    case 'messages-delivered':
      return `turn ${scalar(d.turn) ?? '?'} delivered ${scalar(d.count) ?? '?'} message(s) to the agent`;
    case JOB_DEAD_EVENT: {
      const dead = deadJobSchema.safeParse(d);
      return dead.success ? `${couldNot(dead.data)}: ${dead.data.error}` : fields(d);
    }
    default:
      return fields(d);
  }
}

/** "key: value · key: value" of an event's scalar fields. */
function fields(d: Record<string, unknown>): string {
  return Object.entries(d)
    .flatMap(([key, value]) => {
      const text = scalar(value);
      return text === undefined ? [] : [`${key}: ${clip(text, 200)}`];
    })
    .join(' · ');
}

// Terminal escapes (colours, cursor moves, titles) and other control characters but tab.
const CONTROL = new RegExp(
  [
    String.raw`\u001b\[[0-?]*[ -/]*[@-~]`,
    String.raw`\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)`,
    String.raw`\u001b[@-_]`,
    String.raw`[\u0000-\u0008\u000b-\u001f\u007f]`,
  ].join('|'),
  'g',
);
const MAX_LINE = 4_000;

/** An output line made fit to show: no terminal escapes, not endless. */
export function cleanLine(line: string): string {
  const text = line.replace(CONTROL, '');
  return text.length > MAX_LINE
    ? `${text.slice(0, MAX_LINE)}… [${text.length - MAX_LINE} more characters]`
    : text;
}
