import type { Session } from '../db/schema.js';
import { couldNot, type DeadJob } from '../sessions/dead-job.js';
import { ruleFor } from '../sessions/reactions.js';
import type { RepoConfig } from '../sessions/repo-config.js';

export const STATUS_MARKER = '<!-- agent-orchestrator:status -->';

const BADGES: Record<Session['status'], string> = {
  queued: '⏳ queued',
  spawning: '🛠️ preparing the workspace',
  working: '🤖 working',
  waiting: '👀 waiting for review or CI',
  needs_human: '🙋 needs a human',
  merged: '✅ merged',
  closed: '⏹️ closed',
  stopped: '⏹️ stopped',
  failed: '❌ failed',
};

export interface LastReaction {
  key: string;
  action: string;
}

/** The one status comment of a session, rendered from its current state. */
export function renderStatusComment(
  session: Session,
  {
    config,
    lastReaction,
    dashboardUrl,
    deadJob,
  }: {
    config: Pick<RepoConfig, 'reactions'>;
    lastReaction?: LastReaction | undefined;
    dashboardUrl?: string | undefined;
    /** A job of the session that gave up since it last changed: said above the table. */
    deadJob?: DeadJob | undefined;
  },
): string {
  const rows: [string, string][] = [
    [
      'Status',
      `${BADGES[session.status]}${session.statusReason ? ` — ${session.statusReason}` : ''}`,
    ],
    ['Agent', `\`${session.agent}\`${session.profile ? ` (profile \`${session.profile}\`)` : ''}`],
  ];
  if (session.branch) rows.push(['Branch', `\`${session.branch}\``]);
  if (session.prNumber) rows.push(['Pull request', `#${session.prNumber}`]);
  if (lastReaction) {
    const attempts = session.reactionAttempts[lastReaction.key];
    const retries = ruleFor(lastReaction.key as never, config).retries;
    rows.push([
      'Last reaction',
      `${lastReaction.key} → ${lastReaction.action}${attempts ? ` (attempt ${attempts} of ${retries})` : ''}`,
    ]);
  }
  const tokens = session.inputTokens + session.outputTokens;
  rows.push([
    'Cost',
    `$${session.costUsd.toFixed(2)}${tokens ? ` (${formatTokens(session.inputTokens)} in, ${formatTokens(session.outputTokens)} out)` : ''}`,
  ]);
  if ((session.context as { startedThrough?: string }).startedThrough === 'api')
    rows.push(['Started', 'by the operator, through the API']);
  if (dashboardUrl)
    rows.push(['Dashboard', `[session ${session.id}](${dashboardUrl}/sessions/${session.id})`]);
  return [
    STATUS_MARKER,
    `**Agent Orchestrator** · session \`${session.id}\``,
    '',
    ...(deadJob ? [deadJobLine(deadJob), ''] : []),
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`),
    '',
    '<sub>Comment `/agent help` for commands. This comment is updated in place.</sub>',
  ].join('\n');
}

/** The error goes in a code span: a mention or an issue number in it pings no one. */
function deadJobLine(dead: DeadJob): string {
  return `⚠️ ${couldNot(dead)}: \`${dead.error.replace(/`/g, "'")}\``;
}

function formatTokens(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k tokens` : `${n} tokens`;
}
