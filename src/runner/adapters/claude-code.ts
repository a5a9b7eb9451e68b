import type { AgentAdapter, AgentProfile, TurnCommand } from './adapter.js';
import { createClaudeStreamParser } from './claude-stream-parser.js';

/**
 * Tools the agent may use without asking when it runs unsandboxed. Headless there is nobody to
 * ask, so anything else is denied. In the sandbox it runs as a user that is not root, and there
 * the CLI accepts `--permission-mode bypassPermissions`: every tool, the sandbox being the bound. Names a CLI version does not know (LS, MultiEdit and TodoWrite were
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

  firstTurn({ promptFile, profile, sandboxed }) {
    return command(profile, [], promptFile, sandboxed);
  },

  nextTurn({ messageFile, sessionRef, profile, sandboxed }) {
    // Without a session ref, the most recent conversation in the worktree is the one to continue.
    const resume = sessionRef ? ['--resume', sessionRef] : ['--continue'];
    return command(profile, resume, messageFile, sandboxed);
  },

  createParser: createClaudeStreamParser,
};

function command(
  profile: AgentProfile,
  resume: string[],
  stdinFile: string,
  sandboxed = false,
): TurnCommand {
  const argv = ['claude', '-p', '--output-format', 'stream-json', '--verbose'];
  if (sandboxed) argv.push('--permission-mode', 'bypassPermissions');
  else
    argv.push('--permission-mode', 'acceptEdits', '--allowedTools', CLAUDE_ALLOWED_TOOLS.join(','));
  if (profile.model) argv.push('--model', profile.model);
  if (profile.mcpConfig) argv.push('--mcp-config', profile.mcpConfig);
  // One token, so text starting with a dash is never read as an option.
  if (profile.instructions) argv.push(`--append-system-prompt=${profile.instructions}`);
  argv.push(...resume);
  return { argv, env: { ...CLAUDE_ENV }, stdinFile };
}
