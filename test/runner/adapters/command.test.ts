import { describe, expect, it } from 'vitest';
import { createAdapterRegistry } from '../../../src/runner/adapters/adapter-registry.js';
import { claudeCodeAdapter } from '../../../src/runner/adapters/claude-code.js';
import {
  commandAgentDefinitionSchema,
  createCommandAdapter,
} from '../../../src/runner/adapters/command.js';
import { builtInAdapters } from '../../../src/runner/adapters/index.js';
import { firstTurn, nextTurn, parseFixture, parseLines } from './support.js';

const myAgent = createCommandAdapter({
  name: 'my-agent',
  firstTurn: [
    'my-agent',
    'run',
    '--prompt-file',
    '{promptFile}',
    '--cwd={workdir}',
    ['--model', '{model}'],
  ],
  nextTurn: [
    'my-agent',
    'run',
    '--prompt-file',
    '{messageFile}',
    ['--resume', '{sessionRef}'],
    '--model={model}',
  ],
  passEnv: ['MY_AGENT_KEY'],
  env: { MY_AGENT_TELEMETRY: 'off' },
});

describe('operator-defined command adapter', () => {
  it('substitutes placeholders argument by argument', () => {
    const command = myAgent.firstTurn(firstTurn({ model: 'big model; rm -rf /' }));
    expect(command.argv).toEqual([
      'my-agent',
      'run',
      '--prompt-file',
      '/state/s-abc123/prompt.md',
      '--cwd=/work/repo',
      '--model',
      'big model; rm -rf /',
    ]);
    expect(command.env).toEqual({ MY_AGENT_TELEMETRY: 'off' });
    expect(command.stdinFile).toBeUndefined();
  });

  it('drops a placeholder without a value, and a group holding one', () => {
    expect(myAgent.firstTurn(firstTurn()).argv).toEqual([
      'my-agent',
      'run',
      '--prompt-file',
      '/state/s-abc123/prompt.md',
      '--cwd=/work/repo',
    ]);
    expect(myAgent.nextTurn(nextTurn(null)).argv).toEqual([
      'my-agent',
      'run',
      '--prompt-file',
      '/state/s-abc123/turn-2.md',
    ]);
    expect(myAgent.nextTurn(nextTurn('sess-1', { model: 'small' })).argv).toEqual([
      'my-agent',
      'run',
      '--prompt-file',
      '/state/s-abc123/turn-2.md',
      '--resume',
      'sess-1',
      '--model=small',
    ]);
  });

  it('takes the program from the first turn unless a binary is named', () => {
    expect(myAgent.binary).toBe('my-agent');
    expect(myAgent.passEnv).toEqual(['MY_AGENT_KEY']);
    const named = createCommandAdapter({
      name: 'x',
      binary: '/opt/x/bin/x',
      firstTurn: ['/opt/x/bin/x'],
      nextTurn: ['/opt/x/bin/x'],
    });
    expect(named.binary).toBe('/opt/x/bin/x');
  });

  it('feeds the turn file to stdin when asked', () => {
    const agent = createCommandAdapter({
      name: 'piped',
      firstTurn: ['piped'],
      nextTurn: ['piped', '--again'],
      stdin: 'turn-file',
    });
    expect(agent.firstTurn(firstTurn()).stdinFile).toBe('/state/s-abc123/prompt.md');
    expect(agent.nextTurn(nextTurn(null)).stdinFile).toBe('/state/s-abc123/turn-2.md');
  });

  it('reads plain output as text, or Claude stream-json when told so', () => {
    expect(parseLines(myAgent, ['working...', '', 'done'])).toEqual([
      { type: 'text', text: 'working...' },
      { type: 'text', text: 'done' },
    ]);
    const wrapper = createCommandAdapter({
      name: 'claude-wrapper',
      firstTurn: ['claude-wrapper', '{promptFile}'],
      nextTurn: ['claude-wrapper', '{messageFile}'],
      output: 'claude-stream-json',
    });
    expect(parseFixture(wrapper, 'claude-code-success.jsonl')).toEqual(
      parseFixture(claudeCodeAdapter, 'claude-code-success.jsonl'),
    );
  });

  it.each([
    [{ firstTurn: [], nextTurn: ['a'] }, 'firstTurn'],
    [{ firstTurn: ['{model}'], nextTurn: ['a'] }, 'the first argument must be the program'],
    [
      { firstTurn: ['a', '{messageFile}'], nextTurn: ['a'] },
      '{messageFile} has no value in this turn',
    ],
    [
      { firstTurn: ['a'], nextTurn: ['a', '{promptFile}'] },
      '{promptFile} has no value in this turn',
    ],
    [{ firstTurn: ['a', '{prompt}'], nextTurn: ['a'] }, 'unknown placeholder {prompt}'],
    [
      { firstTurn: ['a'], nextTurn: ['a'], passEnv: ['BAD-NAME'] },
      'not an environment variable name',
    ],
    [{ firstTurn: ['a'], nextTurn: ['a'], output: 'xml' }, 'output'],
  ])('rejects an invalid definition %#', (definition, message) => {
    const parsed = commandAgentDefinitionSchema.safeParse({ name: 'bad', ...definition });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain(message);
  });

  it('keeps JSON-looking arguments that are not placeholders', () => {
    const agent = createCommandAdapter({
      name: 'j',
      firstTurn: ['j', '--config', '{"a":1}'],
      nextTurn: ['j'],
    });
    expect(agent.firstTurn(firstTurn()).argv).toEqual(['j', '--config', '{"a":1}']);
  });
});

describe('adapter registry', () => {
  it('knows the built-in agents by name', () => {
    expect(Object.keys(builtInAdapters).sort()).toEqual([
      'aider',
      'claude-code',
      'codex',
      'opencode',
    ]);
    const adapterFor = createAdapterRegistry();
    expect(adapterFor('claude-code')).toBe(claudeCodeAdapter);
    expect(adapterFor('nope')).toBeUndefined();
  });

  it('adds operator agents, which may replace a built-in', () => {
    const adapterFor = createAdapterRegistry({
      agents: {
        'my-agent': {
          firstTurn: ['my-agent', '{promptFile}'],
          nextTurn: ['my-agent', '{messageFile}'],
        },
        codex: {
          firstTurn: ['codex-wrapper', '{promptFile}'],
          nextTurn: ['codex-wrapper', '{messageFile}'],
        },
      },
    });
    expect(adapterFor('my-agent')?.firstTurn(firstTurn()).argv).toEqual([
      'my-agent',
      '/state/s-abc123/prompt.md',
    ]);
    expect(adapterFor('codex')?.binary).toBe('codex-wrapper');
  });

  it('refuses a bad operator definition at startup, naming the agent', () => {
    expect(() =>
      createAdapterRegistry({
        agents: { broken: { firstTurn: ['b', '{sessionRef}'], nextTurn: ['b'] } },
      }),
    ).toThrow(/agent "broken": firstTurn: \{sessionRef\} has no value in this turn/);
  });
});
