import { describe, expect, it } from 'vitest';
import { opencodeAdapter } from '../../../src/runner/adapters/opencode.js';
import { firstTurn, nextTurn, parseFixture } from './support.js';

const SESSION = 'ses_5c1f0a2b3ffeQ1xYzAbCdEfGh';

describe('opencode adapter', () => {
  it('runs opencode with JSON events and the prompt on stdin', () => {
    const command = opencodeAdapter.firstTurn(firstTurn());
    expect(command.argv).toEqual(['opencode', 'run', '--format', 'json']);
    expect(command.stdinFile).toBe('/state/s-abc123/prompt.md');
    expect(command.env).toMatchObject({ OPENCODE_DISABLE_AUTOUPDATE: '1' });
  });

  it('passes the provider/model and continues the session it was given', () => {
    const command = opencodeAdapter.nextTurn(
      nextTurn(SESSION, { model: 'anthropic/claude-sonnet-4-5' }),
    );
    expect(command.argv).toEqual([
      'opencode',
      'run',
      '--format',
      'json',
      '--model',
      'anthropic/claude-sonnet-4-5',
      '--session',
      SESSION,
    ]);
    expect(command.stdinFile).toBe('/state/s-abc123/turn-2.md');
  });

  it('continues the latest session when it has no session ref', () => {
    expect(opencodeAdapter.nextTurn(nextTurn(null)).argv).toEqual([
      'opencode',
      'run',
      '--format',
      'json',
      '--continue',
    ]);
  });

  it('parses a run: session, text, tools and one result summed over its steps', () => {
    expect(parseFixture(opencodeAdapter, 'opencode-run.jsonl')).toEqual([
      { type: 'session', ref: SESSION },
      { type: 'text', text: "I'll add hello.txt." },
      { type: 'tool_use', name: 'write', summary: '/work/repo/hello.txt' },
      { type: 'tool_use', name: 'bash', summary: 'npm test' },
      {
        type: 'text',
        text: 'Created hello.txt; the test suite already failed before this change.',
      },
      {
        type: 'result',
        isError: false,
        summary: 'Created hello.txt; the test suite already failed before this change.',
        costUsd: expect.closeTo(0.0163, 10),
        inputTokens: 1200 + 9000 + 300 + 150 + 10200,
        outputTokens: 100,
      },
    ]);
  });

  it('reports a session error as a failed result', () => {
    expect(parseFixture(opencodeAdapter, 'opencode-error.jsonl')).toEqual([
      { type: 'session', ref: SESSION },
      {
        type: 'result',
        isError: true,
        summary: 'invalid x-api-key',
        costUsd: 0,
        inputTokens: 0,
        outputTokens: 0,
      },
    ]);
  });
});
