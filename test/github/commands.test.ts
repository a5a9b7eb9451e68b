import { describe, expect, it } from 'vitest';
import { helpText, parseCommand } from '../../src/github/commands.js';

describe('parseCommand', () => {
  it('reads the command words', () => {
    for (const name of ['stop', 'status', 'retry', 'help'] as const) {
      expect(parseCommand(`/agent ${name}`)).toEqual({ name, text: '' });
    }
  });

  it('reads the command word in any case, with trailing whitespace or punctuation', () => {
    expect(parseCommand('/agent STOP')).toEqual({ name: 'stop', text: '' });
    expect(parseCommand('/agent Status  \t')).toEqual({ name: 'status', text: '' });
    expect(parseCommand('/agent stop.')).toEqual({ name: 'stop', text: '' });
    expect(parseCommand('/agent help?')).toEqual({ name: 'help', text: '' });
    expect(parseCommand('/agent\tretry')).toEqual({ name: 'retry', text: '' });
  });

  it('reads the prefix in any case (phones capitalise the first letter)', () => {
    expect(parseCommand('/Agent stop')).toEqual({ name: 'stop', text: '' });
  });

  it('ignores the lines after a command word', () => {
    expect(parseCommand("/agent stop\nI'll take it from here.")).toEqual({
      name: 'stop',
      text: '',
    });
  });

  it('sends anything else to the agent, with the lines after it', () => {
    expect(parseCommand('/agent fix the flaky test')).toEqual({
      name: 'send',
      text: 'fix the flaky test',
    });
    expect(parseCommand('/agent please fix it\n\n- keep the API\n- add a test\n')).toEqual({
      name: 'send',
      text: 'please fix it\n\n- keep the API\n- add a test',
    });
  });

  it('sends a command word followed by more text as a message', () => {
    expect(parseCommand('/agent retry the failing test with a longer timeout')).toEqual({
      name: 'send',
      text: 'retry the failing test with a longer timeout',
    });
    expect(parseCommand('/agent stop now')).toEqual({ name: 'send', text: 'stop now' });
    expect(parseCommand('/agent help me understand the parser')).toMatchObject({ name: 'send' });
  });

  it('treats a bare prefix as help, or as a message when lines follow it', () => {
    expect(parseCommand('/agent')).toEqual({ name: 'help', text: '' });
    expect(parseCommand('/agent   \n\n  ')).toEqual({ name: 'help', text: '' });
    expect(parseCommand('/agent\nRename the flag.\nThen update the docs.')).toEqual({
      name: 'send',
      text: 'Rename the flag.\nThen update the docs.',
    });
  });

  it('answers a typo of a command word or a guessed control word as unknown', () => {
    expect(parseCommand('/agent stpo')).toEqual({ name: 'unknown', word: 'stpo' });
    expect(parseCommand('/agent staus')).toEqual({ name: 'unknown', word: 'staus' });
    expect(parseCommand('/agent Cancel')).toEqual({ name: 'unknown', word: 'Cancel' });
    expect(parseCommand('/agent abort')).toEqual({ name: 'unknown', word: 'abort' });
    // Single words that are real messages still reach the agent.
    expect(parseCommand('/agent continue')).toEqual({ name: 'send', text: 'continue' });
    expect(parseCommand('/agent rebase')).toEqual({ name: 'send', text: 'rebase' });
    // A typo with more lines after it is a message.
    expect(parseCommand('/agent stpo\nthe build')).toMatchObject({ name: 'send' });
  });

  it('finds the first command line, after other text', () => {
    expect(parseCommand('Thanks for this!\n\n/agent stop\n/agent status')).toEqual({
      name: 'stop',
      text: '',
    });
  });

  it('ignores the prefix anywhere but the start of a line', () => {
    expect(parseCommand('please /agent stop')).toBeNull();
    expect(parseCommand('`/agent stop`')).toBeNull();
    expect(parseCommand('> /agent stop')).toBeNull();
    expect(parseCommand('nothing to see here')).toBeNull();
    expect(parseCommand('')).toBeNull();
  });

  it('allows up to three spaces of indentation, as Markdown does; four is a code block', () => {
    expect(parseCommand('   /agent stop')).toEqual({ name: 'stop', text: '' });
    expect(parseCommand('    /agent stop')).toBeNull();
    expect(parseCommand('\t/agent stop')).toBeNull();
  });

  it('ignores commands inside fenced code blocks', () => {
    expect(parseCommand('Use it like this:\n```\n/agent stop\n```')).toBeNull();
    expect(parseCommand('~~~md\n/agent stop\n~~~\n/agent status')).toEqual({
      name: 'status',
      text: '',
    });
    // A fence closes only with the same character, at least as long.
    expect(parseCommand('````\n```\n/agent stop\n````\n/agent retry')).toEqual({
      name: 'retry',
      text: '',
    });
  });

  it('keeps code blocks that follow a message as part of it', () => {
    expect(parseCommand('/agent use this:\n```ts\nconst a = 1;\n```')).toEqual({
      name: 'send',
      text: 'use this:\n```ts\nconst a = 1;\n```',
    });
  });

  it('reads CRLF and CR line endings', () => {
    expect(parseCommand('Hi\r\n/agent stop\r\n')).toEqual({ name: 'stop', text: '' });
    expect(parseCommand('/agent fix it\r\nand test it\r\n')).toEqual({
      name: 'send',
      text: 'fix it\nand test it',
    });
    expect(parseCommand('Hi\r/agent status')).toEqual({ name: 'status', text: '' });
  });

  it('needs whitespace or the end of the line after the prefix', () => {
    expect(parseCommand('/agentfoo')).toBeNull();
    expect(parseCommand('/agents stop')).toBeNull();
    expect(parseCommand('/agent-stop')).toBeNull();
    expect(parseCommand('/agent:stop')).toBeNull();
  });

  it('uses the repository prefix', () => {
    expect(parseCommand('/bot stop', '/bot')).toEqual({ name: 'stop', text: '' });
    expect(parseCommand('/agent stop', '/bot')).toBeNull();
    expect(parseCommand('/ai-helper fix it', '/ai-helper')).toEqual({
      name: 'send',
      text: 'fix it',
    });
    expect(parseCommand('/ai-helpers fix it', '/ai-helper')).toBeNull();
  });
});

describe('helpText', () => {
  it('lists every command with the prefix', () => {
    const help = helpText('/bot');
    for (const command of [
      '/bot <message>',
      '/bot stop',
      '/bot status',
      '/bot retry',
      '/bot help',
    ]) {
      expect(help).toContain(`\`${command}\``);
    }
  });

  it('is not itself a command, so the app never answers its own comment', () => {
    expect(parseCommand(helpText())).toBeNull();
    expect(parseCommand(helpText('/bot'), '/bot')).toBeNull();
  });
});
