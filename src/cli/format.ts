import type { ApiEvent, ApiSession } from './api-client.js';

/** Left-aligned columns separated by two spaces, with a header row. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "42s", "5m", "3h", "2d": how long ago, for a table. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

const cost = (usd: number) => `$${usd.toFixed(2)}`;

export function sessionsTable(sessions: ApiSession[], now = Date.now()): string {
  return table(
    ['ID', 'REPOSITORY', 'ISSUE', 'PR', 'STATUS', 'AGENT', 'AGE', 'COST'],
    sessions.map((s) => [
      s.id,
      s.repositoryFullName,
      `#${s.issueNumber}`,
      s.prNumber ? `#${s.prNumber}` : '-',
      s.status,
      s.profile ? `${s.agent} (${s.profile})` : s.agent,
      age(s.createdAt, now),
      cost(s.costUsd),
    ]),
  );
}

function tokens(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

/** One session as labelled lines, then its recent events, one a line. */
export function sessionDetails(session: ApiSession, events: ApiEvent[], now = Date.now()): string {
  const when = (iso: string | null) => (iso ? `${iso} (${age(iso, now)} ago)` : '-');
  const fields: [string, string][] = [
    ['Repository', session.repositoryFullName],
    ['Issue', `#${session.issueNumber}`],
    ['Pull request', session.prNumber ? `#${session.prNumber}` : '-'],
    [
      'Status',
      session.statusReason ? `${session.status}: ${session.statusReason}` : session.status,
    ],
    ['Agent', session.profile ? `${session.agent} (profile ${session.profile})` : session.agent],
    ['Branch', session.branch ?? '-'],
    ['Runner', session.runnerId ?? '-'],
    ['Triggered by', session.triggeredBy],
    [
      'Cost',
      `${cost(session.costUsd)} (${tokens(session.inputTokens)} tokens in, ${tokens(session.outputTokens)} out)`,
    ],
    ['Created', when(session.createdAt)],
    ['Updated', when(session.updatedAt)],
  ];
  if (session.endedAt) fields.push(['Ended', when(session.endedAt)]);
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = [
    `Session ${session.id}`,
    ...fields.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
  ];
  if (events.length === 0) {
    lines.push('No events yet.');
  } else {
    lines.push(`Recent events (${events.length}):`);
    const kindWidth = Math.max(...events.map((e) => e.kind.length));
    for (const e of events)
      lines.push(`  ${e.createdAt}  ${e.kind.padEnd(kindWidth)}  ${summary(e.data)}`.trimEnd());
  }
  return lines.join('\n');
}

/** An event's data as `key=value` pairs, on one line and not too long. */
function summary(data: Record<string, unknown>): string {
  const text = Object.entries(data)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
    .replace(/\s+/g, ' ');
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
