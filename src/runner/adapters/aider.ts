import type { AgentAdapter, AgentEvent, AgentProfile } from './adapter.js';

/**
 * Aider (flags from aider/args.py in Aider-AI/aider). One process per message: `--message-file`
 * sends the file and exits. Aider has no session id; the next turn restores the chat from
 * `.aider.chat.history.md` in the worktree.
 *
 * Choices: the runner owns commits (it commits whatever is left after a turn), so aider's own
 * auto and dirty commits are off; `--no-gitignore` keeps aider from adding `.aider*` to the
 * repository's .gitignore, which would end up in the pull request. Its history files still sit in
 * the worktree, so whoever commits leftovers must leave `.aider*` out (e.g. info/exclude).
 * `--no-analytics` (not `--analytics-disable`, which writes to the home directory), no update
 * check, no release notes, plain non-streamed output so every line is a whole line.
 *
 * Not run here: no aider is installed; the flags and the usage line come from its sources.
 */
export const aiderAdapter: AgentAdapter = {
  name: 'aider',
  binary: 'aider',
  egress: ['api.openai.com', 'api.anthropic.com', 'openrouter.ai'],
  passEnv: [
    'ANTHROPIC_API_KEY',
    'OPENAI_API_KEY',
    'OPENAI_API_BASE',
    'GEMINI_API_KEY',
    'DEEPSEEK_API_KEY',
    'OPENROUTER_API_KEY',
    'GROQ_API_KEY',
    'MISTRAL_API_KEY',
    'OLLAMA_API_BASE',
  ],

  firstTurn({ promptFile, profile }) {
    return { argv: argv(profile, promptFile, false), env: {} };
  },

  nextTurn({ messageFile, profile }) {
    return { argv: argv(profile, messageFile, true), env: {} };
  },

  createParser: createAiderParser,
};

function argv(profile: AgentProfile, messageFile: string, restoreHistory: boolean): string[] {
  const args = ['aider', '--message-file', messageFile, '--yes-always'];
  args.push('--no-auto-commits', '--no-dirty-commits', '--no-gitignore');
  args.push('--no-pretty', '--no-stream', '--no-fancy-input', '--no-detect-urls');
  args.push('--no-check-update', '--no-show-release-notes', '--no-analytics');
  if (restoreHistory) args.push('--restore-chat-history');
  if (profile.model) args.push('--model', profile.model);
  return args;
}

// "Tokens: 2.3k sent, 1.1k cache write, 512 received." with " Cost: $0.01 message, $0.05 session."
// on the same line, or on the next one when both cache counts are shown.
const TOKENS =
  /^Tokens: (.+?) sent(?:, (.+?) cache write)?(?:, (.+?) cache hit)?, (.+?) received\./;
const COST = /Cost: \$([\d.]+) message, \$([\d.]+) session\./;

/**
 * Every line is text except aider's usage report, which becomes a result. Aider reports usage
 * per message (its counters reset after each report) and may send several messages in a turn
 * (reflections after lint or test failures); the results are cumulative for the process (its
 * session cost, summed tokens), so the last one describes the whole turn.
 */
export function createAiderParser(): (line: string) => AgentEvent[] {
  let inputTokens = 0;
  let outputTokens = 0;
  return (line) => {
    const tokens = TOKENS.exec(line);
    const cost = COST.exec(line);
    if (!tokens && !cost) return line.trim() === '' ? [] : [{ type: 'text', text: line }];
    if (tokens) {
      // `sent` already counts cache writes; cache hits are shown apart and may overlap it.
      inputTokens += count(tokens[1]);
      outputTokens += count(tokens[4]);
    }
    return [
      {
        type: 'result',
        isError: false,
        costUsd: cost ? Number(cost[2]) : undefined,
        inputTokens,
        outputTokens,
      },
    ];
  };
}

/** Aider's format_tokens: `950`, `2.3k`, `15k`, `1.2M`. */
function count(text: string | undefined): number {
  if (!text) return 0;
  const match = /^([\d.]+)([kM]?)$/.exec(text.trim());
  if (!match) return 0;
  const scale = match[2] === 'M' ? 1_000_000 : match[2] === 'k' ? 1_000 : 1;
  return Math.round(Number(match[1]) * scale);
}
