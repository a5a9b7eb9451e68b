import { describe, expect, it } from 'vitest';
import { claudeCodeAdapter } from '../../../src/runner/adapters/claude-code.js';
import { firstTurn, nextTurn, parseFixture, parseLines } from './support.js';

const BASE = [
  'claude',
  '-p',
  '--output-format',
  'stream-json',
  '--verbose',
  '--permission-mode',
  'acceptEdits',
  '--allowedTools',
  'Read,Write,Edit,MultiEdit,Glob,Grep,LS,TodoWrite,Bash',
];

describe('claude-code adapter', () => {
  it('starts a print-mode turn that reads the prompt from stdin', () => {
    const command = claudeCodeAdapter.firstTurn(firstTurn());
    expect(command.argv).toEqual(BASE);
    expect(command.stdinFile).toBe('/state/s-abc123/prompt.md');
    expect(command.env).toMatchObject({
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
    });
  });

  it('never asks for --dangerously-skip-permissions, which the CLI refuses as root', () => {
    const argv = claudeCodeAdapter.firstTurn(firstTurn()).argv;
    expect(argv.join(' ')).not.toContain('dangerously');
  });

  it('in the sandbox, as a user that is not root, lets the agent use every tool', () => {
    const first = claudeCodeAdapter.firstTurn({ ...firstTurn(), sandboxed: true }).argv;
    expect(first).toEqual([...BASE.slice(0, 5), '--permission-mode', 'bypassPermissions']);
    const next = claudeCodeAdapter.nextTurn({ ...nextTurn('abc'), sandboxed: true }).argv;
    expect(next).toContain('bypassPermissions');
    expect(next).not.toContain('--allowedTools');
  });

  it('passes the model, the MCP file and the instructions from the profile', () => {
    const command = claudeCodeAdapter.firstTurn(
      firstTurn({
        model: 'claude-sonnet-4-5',
        mcpConfig: '/etc/agents/mcp.json',
        instructions: '-Be brief.',
      }),
    );
    expect(command.argv).toEqual([
      ...BASE,
      '--model',
      'claude-sonnet-4-5',
      '--mcp-config',
      '/etc/agents/mcp.json',
      '--append-system-prompt=-Be brief.',
    ]);
  });

  it('resumes the session it was given, with the message on stdin', () => {
    const command = claudeCodeAdapter.nextTurn(
      nextTurn('d386a6aa-eb6b-44d8-ba1a-d1e9b12ff800', { model: 'opus' }),
    );
    expect(command.argv).toEqual([
      ...BASE,
      '--model',
      'opus',
      '--resume',
      'd386a6aa-eb6b-44d8-ba1a-d1e9b12ff800',
    ]);
    expect(command.stdinFile).toBe('/state/s-abc123/turn-2.md');
  });

  it('continues the latest conversation in the worktree when it has no session ref', () => {
    expect(claudeCodeAdapter.nextTurn(nextTurn(null)).argv).toEqual([...BASE, '--continue']);
  });

  it('keeps the prompt and secrets out of argv', () => {
    const argv = claudeCodeAdapter.firstTurn(firstTurn({ model: 'm' })).argv.join(' ');
    expect(argv).not.toMatch(/KEY|TOKEN|prompt\.md/);
  });

  it('parses a recorded turn: session, text, tool uses and the result with cost and tokens', () => {
    expect(parseFixture(claudeCodeAdapter, 'claude-code-success.jsonl')).toEqual([
      { type: 'session', ref: '4f15aa26-e3c6-45ca-bbc5-d9179f65bd79' },
      { type: 'text', text: 'I will create hello.txt.' },
      { type: 'tool_use', name: 'Write', summary: '/tmp/claude-rec/repo/hello.txt' },
      { type: 'tool_use', name: 'Bash', summary: 'git status --short' },
      { type: 'text', text: 'Done: wrote hello.txt' },
      {
        type: 'result',
        isError: false,
        summary: 'Done: wrote hello.txt',
        costUsd: 0.01125,
        inputTokens: 3000,
        outputTokens: 150,
      },
    ]);
  });

  it('reports an API error as a failed result with the CLI message', () => {
    const events = parseFixture(claudeCodeAdapter, 'claude-code-api-error.jsonl');
    const result = events.at(-1);
    expect(result).toMatchObject({ type: 'result', isError: true, costUsd: 0 });
    expect(result).toHaveProperty('summary', expect.stringContaining('Prompt is too long'));
  });

  it('counts cached prompt tokens as input', () => {
    const line = JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'ok',
      total_cost_usd: 0.5,
      usage: {
        input_tokens: 10,
        cache_creation_input_tokens: 200,
        cache_read_input_tokens: 3000,
        output_tokens: 40,
      },
    });
    expect(parseLines(claudeCodeAdapter, [line])).toEqual([
      {
        type: 'result',
        isError: false,
        summary: 'ok',
        costUsd: 0.5,
        inputTokens: 3210,
        outputTokens: 40,
      },
    ]);
  });

  it('reports a turn stopped by its limits as failed, with the errors it lists', () => {
    const line = JSON.stringify({
      type: 'result',
      subtype: 'error_max_turns',
      is_error: false,
      errors: ['max turns'],
    });
    expect(parseLines(claudeCodeAdapter, [line])).toEqual([
      expect.objectContaining({ type: 'result', isError: true, summary: 'max turns' }),
    ]);
  });

  it('keeps non-JSON lines as text and skips blank ones', () => {
    expect(parseLines(claudeCodeAdapter, ['', 'Error: something broke', '   '])).toEqual([
      { type: 'text', text: 'Error: something broke' },
    ]);
  });
});
