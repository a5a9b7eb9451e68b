import { describe, expect, it } from 'vitest';
import { aiderAdapter } from '../../../src/runner/adapters/aider.js';
import { firstTurn, nextTurn, parseFixture, parseLines } from './support.js';

const FLAGS = [
  '--yes-always',
  '--no-auto-commits',
  '--no-dirty-commits',
  '--no-gitignore',
  '--no-pretty',
  '--no-stream',
  '--no-fancy-input',
  '--no-detect-urls',
  '--no-check-update',
  '--no-show-release-notes',
  '--no-analytics',
];

describe('aider adapter', () => {
  it('sends the prompt file as its one message', () => {
    const command = aiderAdapter.firstTurn(firstTurn());
    expect(command.argv).toEqual([
      'aider',
      '--message-file',
      '/state/s-abc123/prompt.md',
      ...FLAGS,
    ]);
    expect(command.stdinFile).toBeUndefined();
  });

  it('restores the chat history on the next turns and passes the model', () => {
    expect(aiderAdapter.nextTurn(nextTurn(null, { model: 'sonnet' })).argv).toEqual([
      'aider',
      '--message-file',
      '/state/s-abc123/turn-2.md',
      ...FLAGS,
      '--restore-chat-history',
      '--model',
      'sonnet',
    ]);
  });

  it('ignores a session ref, having none of its own', () => {
    expect(aiderAdapter.nextTurn(nextTurn('whatever')).argv).toEqual(
      aiderAdapter.nextTurn(nextTurn(null)).argv,
    );
  });

  it('parses its plain output: text lines, and usage reports as cumulative results', () => {
    const events = parseFixture(aiderAdapter, 'aider-turn.txt');
    const results = events.filter((e) => e.type === 'result');
    expect(results).toEqual([
      { type: 'result', isError: false, costUsd: 0.0092, inputTokens: 2600, outputTokens: 95 },
      // The cache counts push the cost onto its own line: tokens first, then the cost.
      { type: 'result', isError: false, costUsd: undefined, inputTokens: 14600, outputTokens: 505 },
      { type: 'result', isError: false, costUsd: 0.04, inputTokens: 14600, outputTokens: 505 },
    ]);
    expect(events).toContainEqual({ type: 'text', text: "I'll create hello.txt with a greeting." });
    expect(events).toContainEqual({ type: 'text', text: 'Applied edit to src/app.py' });
  });

  it('reports tokens without cost for a model it has no prices for', () => {
    expect(parseLines(aiderAdapter, ['Tokens: 950 sent, 1.2M received.'])).toEqual([
      {
        type: 'result',
        isError: false,
        costUsd: undefined,
        inputTokens: 950,
        outputTokens: 1_200_000,
      },
    ]);
  });
});
