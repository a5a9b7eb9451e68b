import type { IssueSnapshot } from '../sessions/session-context.js';

// Format characters (zero-width, bidirectional, soft hyphen, BOM, tags) and control characters
// other than tab and newline: text a reader cannot see but a model would obey.
const FORMAT_OR_CONTROL = /^[\p{Cf}\p{Cc}]$/u;
// Blank "letters" and variation selectors that render as nothing.
const BLANK = new Set([0x115f, 0x1160, 0x17b4, 0x17b5, 0x3164, 0xffa0]);
const isInvisible = (cp: number, ch: string) =>
  (ch !== '\n' && ch !== '\t' && FORMAT_OR_CONTROL.test(ch)) ||
  BLANK.has(cp) ||
  (cp >= 0x180b && cp <= 0x180f) ||
  (cp >= 0xfe00 && cp <= 0xfe0f) ||
  (cp >= 0xe0100 && cp <= 0xe01ef);

function removeInvisible(text: string): string {
  let out = '';
  for (const ch of text) if (!isInvisible(ch.codePointAt(0)!, ch)) out += ch;
  return out;
}

/** Removes what GitHub does not show: HTML comments and invisible characters. */
export function stripHidden(text: string): string {
  return removeInvisible(text.replace(/\r\n?/g, '\n'))
    .replace(/<!--[\s\S]*?(-->|$)/g, '')
    .trim();
}

export interface PromptInput {
  issue: IssueSnapshot;
  branch: string;
  baseBranch: string;
  /** The repository's `instructions` and the profile's, in that order. */
  instructions: string[];
}

/** The first turn's prompt: the task, the rules of the branch, then the issue. */
export function buildPrompt({ issue, branch, baseBranch, instructions }: PromptInput): string {
  const parts = [
    `You are working on issue #${issue.number} of ${issue.repository}: ${stripHidden(issue.title)}`,
    [
      '## Rules',
      `- You are in a git worktree on branch \`${branch}\`, made from \`${baseBranch}\`. Work only here.`,
      '- Commit your changes with clear messages as you go.',
      '- Do not push and do not open a pull request: the orchestrator pushes your commits and opens',
      '  the pull request when your turn ends.',
      '- When you are done, end with a short summary of what you changed and how you checked it.',
    ].join('\n'),
  ];
  const extra = instructions.map(stripHidden).filter(Boolean);
  if (extra.length > 0) parts.push(`## Instructions from the maintainers\n\n${extra.join('\n\n')}`);
  parts.push(
    `## The issue\n\n### ${stripHidden(issue.title)}\n\n${stripHidden(issue.body) || '(no description)'}`,
  );
  const comments = issue.comments
    .map((c) => ({ ...c, body: stripHidden(c.body) }))
    .filter((c) => c.body.length > 0);
  if (comments.length > 0) {
    parts.push(
      `## Comments\n\n${comments.map((c) => `**@${c.author}** wrote:\n\n${c.body}`).join('\n\n---\n\n')}`,
    );
  }
  return `${parts.join('\n\n')}\n`;
}

/** A next turn's message file: the queued messages in order, each with where it came from. */
export function buildMessage(messages: { source: string; body: string }[]): string {
  if (messages.length === 1) return `${stripHidden(messages[0]!.body)}\n`;
  return `${messages
    .map(
      (m, i) =>
        `## Message ${i + 1} of ${messages.length} (from ${m.source})\n\n${stripHidden(m.body)}`,
    )
    .join('\n\n')}\n`;
}
