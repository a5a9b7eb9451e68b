/** The command words; anything else after the prefix is a message for the agent. */
export const COMMAND_WORDS = ['stop', 'status', 'retry', 'help'] as const;
export type CommandWord = (typeof COMMAND_WORDS)[number];

export type Command =
  | { name: 'send' | CommandWord; text: string }
  /** A lone word that looks like a mistyped or guessed command; answered with the help text. */
  | { name: 'unknown'; word: string };

/** Lone words people try as commands; sent to the agent, they would only confuse it. */
const CONTROL_WORDS = new Set([
  'cancel',
  'abort',
  'halt',
  'kill',
  'pause',
  'resume',
  'restart',
  'rerun',
  'start',
]);
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Finds the first command in a comment: a line that starts with the prefix (case-insensitive, up
 * to three spaces of indentation as Markdown allows) followed by whitespace or the end of the line.
 * Lines in fenced code blocks and quotes (`> /agent stop`) are not commands; neither is
 * `/agentfoo`.
 *
 * - `/agent stop|status|retry|help` alone on the line (any case, a trailing `.`, `!` or `?`
 *   allowed) is that command; the lines after it are ignored. With more text on the line it is
 *   a message, so `/agent retry the flaky test` and `/agent stop now` reach the agent.
 * - `/agent <text>` is `send`, the text being the rest of the line and every line after it.
 * - A bare `/agent` is `send` with the lines after it, or `help` when nothing follows.
 * - A lone word close to a command (`/agent stpo`) or a control word (`/agent cancel`) is
 *   `unknown`, so a typo is answered instead of reaching the agent.
 */
export function parseCommand(body: string, prefix = '/agent'): Command | null {
  const lines = body.split(/\r\n|\r|\n/);
  const start = new RegExp(`^ {0,3}${escapeRegExp(prefix)}(?=\\s|$)`, 'i');
  let fence: string | null = null;
  for (const [index, line] of lines.entries()) {
    const marker = FENCE.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      continue;
    }
    if (marker) {
      fence = marker;
      continue;
    }
    const match = start.exec(line);
    if (!match) continue;
    const rest = line.slice(match[0].length).trim();
    const following = lines.slice(index + 1).join('\n');
    return interpret(rest, following);
  }
  return null;
}

function interpret(rest: string, following: string): Command {
  // `/agent stop.` and `/agent help?` are still commands.
  const word = rest.toLowerCase().replace(/[.!?]+$/, '');
  if ((COMMAND_WORDS as readonly string[]).includes(word))
    return { name: word as CommandWord, text: '' };
  const text = [rest, following]
    .filter((part) => part.trim() !== '')
    .join('\n')
    .trim();
  if (text === '') return { name: 'help', text: '' };
  if (rest !== '' && !/\s/.test(rest) && following.trim() === '' && looksLikeCommand(word)) {
    return { name: 'unknown', word: rest };
  }
  return { name: 'send', text };
}

function looksLikeCommand(word: string): boolean {
  if (CONTROL_WORDS.has(word)) return true;
  return (
    word.length <= 8 &&
    COMMAND_WORDS.some((command) => distance(word, command) <= (command.length <= 4 ? 1 : 2))
  );
}

/** Edit distance counting a swap of neighbours as one edit (`stpo` is one from `stop`). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A short Markdown help listing the commands; no line starts with the prefix. */
export function helpText(prefix = '/agent'): string {
  return [
    '**Agent commands**, each at the start of a line:',
    '',
    `- \`${prefix} <message>\`: start a session on this issue, or send the message to the running agent; the lines after it are part of the message`,
    `- \`${prefix} stop\`: stop the agent and clean up, keeping the branch`,
    `- \`${prefix} status\`: show the session's status`,
    `- \`${prefix} retry\`: start again after the session needed a human or failed`,
    `- \`${prefix} help\`: show this list`,
  ].join('\n');
}
