import { describe, expect, it } from 'vitest';
import { codexAdapter } from '../../../src/runner/adapters/codex.js';
import { firstTurn, nextTurn, parseFixture } from './support.js';

const BASE = ['codex', 'exec', '--json', '--sandbox', 'workspace-write'];

describe('codex adapter', () => {
  it('runs codex exec with the prompt read from stdin', () => {
    const command = codexAdapter.firstTurn(firstTurn());
    expect(command.argv).toEqual([...BASE, '-']);
    expect(command.stdinFile).toBe('/state/s-abc123/prompt.md');
  });

  it('passes the model before the prompt', () => {
    expect(codexAdapter.firstTurn(firstTurn({ model: 'gpt-5-codex' })).argv).toEqual([
      ...BASE,
      '--model',
      'gpt-5-codex',
      '-',
    ]);
  });

  it('resumes the thread with exec options before the resume subcommand', () => {
    const command = codexAdapter.nextTurn(
      nextTurn('0199a213-81c0-7800-8aa1-bbab2a035a53', { model: 'o3' }),
    );
    expect(command.argv).toEqual([
      ...BASE,
      '--model',
      'o3',
      'resume',
      '0199a213-81c0-7800-8aa1-bbab2a035a53',
      '-',
    ]);
    expect(command.stdinFile).toBe('/state/s-abc123/turn-2.md');
  });

  it('resumes the latest session when it has no thread id', () => {
    expect(codexAdapter.nextTurn(nextTurn(null)).argv).toEqual([...BASE, 'resume', '--last', '-']);
  });

  it('parses a turn: thread, commands, file changes, MCP calls, the message and the usage', () => {
    expect(parseFixture(codexAdapter, 'codex-exec.jsonl')).toEqual([
      { type: 'session', ref: '0199a213-81c0-7800-8aa1-bbab2a035a53' },
      { type: 'tool_use', name: 'command', summary: 'bash -lc ls' },
      {
        type: 'tool_use',
        name: 'file_change',
        summary: '/work/repo/hello.txt, /work/repo/README.md',
      },
      { type: 'tool_use', name: 'docs.search' },
      { type: 'text', text: 'Added hello.txt and linked it from the README.' },
      {
        type: 'result',
        isError: false,
        summary: 'Added hello.txt and linked it from the README.',
        inputTokens: 24763,
        outputTokens: 122,
      },
    ]);
  });

  it('reports a failed turn as a failed result with its message', () => {
    const events = parseFixture(codexAdapter, 'codex-failed.jsonl');
    expect(events.at(-1)).toEqual({
      type: 'result',
      isError: true,
      summary: 'unexpected status 401 Unauthorized: Incorrect API key provided',
    });
  });
});
