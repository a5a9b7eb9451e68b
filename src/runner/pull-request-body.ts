import type { Session } from '../db/schema.js';
import { fenced } from '../shared/markdown-fence.js';
import { visiblePlainText } from '../shared/visible-text.js';

/**
 * The pull request's body: it closes the issue and carries the agent's summary. The summary is
 * the agent's text, not ours: it sits in a code block, where GitHub acts on no closing keyword
 * and no mention, so only our `Closes #N` is live.
 */
export function pullRequestBody(
  session: Pick<Session, 'id' | 'issueNumber' | 'agent'>,
  summary: string | undefined,
): string {
  const parts = [`Closes #${session.issueNumber}`];
  const text = visiblePlainText(summary ?? '')
    .trim()
    .slice(0, 20_000);
  if (text) parts.push(`## Summary from the agent\n\n${fenced(text, 'text')}`);
  parts.push(`---\nOpened by Agent Orchestrator for session \`${session.id}\` (${session.agent}).`);
  return parts.join('\n\n');
}
