import type { Session } from '../db/schema.js';

/** The pull request's body: it closes the issue and carries the agent's summary. */
export function pullRequestBody(
  session: Pick<Session, 'id' | 'issueNumber' | 'agent'>,
  summary: string | undefined,
): string {
  const parts = [`Closes #${session.issueNumber}`];
  if (summary?.trim())
    parts.push(`## Summary from the agent\n\n${summary.trim().slice(0, 20_000)}`);
  parts.push(`---\nOpened by Agent Orchestrator for session \`${session.id}\` (${session.agent}).`);
  return parts.join('\n\n');
}
