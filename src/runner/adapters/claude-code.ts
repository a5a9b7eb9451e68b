import type { AgentAdapter, AgentProfile, TurnCommand } from './adapter.js';
import { createClaudeStreamParser } from './claude-stream-parser.js';

/**
 * Tools the agent may use without asking. Headless there is nobody to ask, so anything else is
 * denied. `--dangerously-skip-permissions` would be simpler, but the CLI refuses it as root, which
 * is how our runners run. Names a CLI version does not know (LS, MultiEdit and TodoWrite were
 * replaced in later versions) are ignored by it.
 */
export const CLAUDE_ALLOWED_TOOLS = [
  'Read',
  'Write',
  'Edit',
  'MultiEdit',
  'Glob',
  'Grep',
  'LS',
  'TodoWrite',
  'Bash',
] as const;

/** Documented switches that keep a headless run from phoning home or updating itself. */
export const CLAUDE_ENV: Readonly<Record<string, string>> = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
};

export const claudeCodeAdapter: AgentAdapter = {
  name: 'claude-code',
  binary: 'claude',
  egress: ['api.anthropic.com'],
  passEnv: [
    'ANTHROPIC_API_KEY',
    'ANTHROPIC_AUTH_TOKEN',
    'ANTHROPIC_BASE_URL',
    'ANTHROPIC_MODEL',
    'ANTHROPIC_CUSTOM_HEADERS',
    'CLAUDE_CODE_OAUTH_TOKEN',
    'CLAUDE_CODE_USE_BEDROCK',
    'CLAUDE_CODE_USE_VERTEX',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_BEARER_TOKEN_BEDROCK',
    'ANTHROPIC_VERTEX_PROJECT_ID',
    'CLOUD_ML_REGION',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'HTTPS_PROXY',
    'NO_PROXY',
  ],

  firstTurn({ promptFile, profile }) {
    return command(profile, [], promptFile);
  },

  nextTurn({ messageFile, sessionRef, profile }) {
    // Without a session ref, the most recent conversation in the worktree is the one to continue.
    return command(profile, sessionRef ? ['--resume', sessionRef] : ['--continue'], messageFile);
  },

  createParser: createClaudeStreamParser,
};

function command(profile: AgentProfile, resume: string[], stdinFile: string): TurnCommand {
  const argv = ['claude', '-p', '--output-format', 'stream-json', '--verbose'];
  argv.push('--permission-mode', 'acceptEdits', '--allowedTools', CLAUDE_ALLOWED_TOOLS.join(','));
  if (profile.model) argv.push('--model', profile.model);
  if (profile.mcpConfig) argv.push('--mcp-config', profile.mcpConfig);
  // One token, so text starting with a dash is never read as an option.
  if (profile.instructions) argv.push(`--append-system-prompt=${profile.instructions}`);
  argv.push(...resume);
  return { argv, env: { ...CLAUDE_ENV }, stdinFile };
}
