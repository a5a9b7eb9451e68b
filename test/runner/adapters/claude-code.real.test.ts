import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent, TurnCommand } from '../../../src/runner/adapters/adapter.js';
import { claudeCodeAdapter } from '../../../src/runner/adapters/claude-code.js';
import { REPO_ROOT } from '../../helpers/processes.js';
import {
  type ScriptedModel,
  startScriptedModel,
  textReply,
  toolUseReply,
} from '../../helpers/scripted-model.js';

/**
 * The adapter's argv, environment and parser against the real `claude` binary (the
 * @anthropic-ai/claude-code dev dependency), talking to a scripted model on 127.0.0.1.
 */

const BIN = path.join(REPO_ROOT, 'node_modules', '.bin');
const PROMPT = 'Create hello.txt saying hello, then tag the commit.';
const CONTENT = 'hello from the agent\n';
const INSTRUCTIONS = 'Keep every answer under ten words.';

interface TurnOutput {
  code: number | null;
  stderr: string;
  events: AgentEvent[];
}

let dir: string;
let repo: string;
let model: ScriptedModel;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'claude-real-'));
  repo = path.join(dir, 'repo');
  mkdirSync(repo);
  mkdirSync(path.join(dir, 'home'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe' });
  git('init', '-q');
  writeFileSync(path.join(repo, 'README.md'), '# demo\n');
  git('add', '.');
  git('-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'init');
  model = await startScriptedModel({
    script: [
      toolUseReply('Write', { file_path: path.join(repo, 'hello.txt'), content: CONTENT }),
      toolUseReply('Bash', { command: 'git tag agent-ran-bash', description: 'Tag the commit' }),
      textReply('Done: wrote hello.txt'),
      textReply('Second turn: nothing left to do'),
    ],
  });
});

afterAll(async () => {
  await model?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs a turn as the runner would: the adapter's argv and env, stdin from its file, no shell. */
async function runTurn(command: TurnCommand): Promise<TurnOutput> {
  const env = {
    ...command.env,
    PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    HOME: path.join(dir, 'home'),
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'test-key',
  };
  const [program, ...args] = command.argv;
  const stdin = openSync(command.stdinFile ?? '/dev/null', 'r');
  try {
    const child = spawn(program!, args, { cwd: repo, env, stdio: [stdin, 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const parse = claudeCodeAdapter.createParser();
    return { code, stderr, events: stdout.split('\n').flatMap((line) => parse(line)) };
  } finally {
    closeSync(stdin);
  }
}

/** The parts of a Messages API request body the assertions read. */
interface RequestBody {
  model: string;
  system: unknown;
  messages: { role: string; content: unknown }[];
}

describe('claude-code adapter with the real Claude Code CLI', () => {
  let sessionRef: string | undefined;

  it('runs a first turn that writes a file, uses Bash, reports session, tools, cost', async () => {
    const promptFile = path.join(dir, 'prompt.md');
    writeFileSync(promptFile, PROMPT);
    const mcpConfig = path.join(dir, 'mcp.json');
    writeFileSync(mcpConfig, JSON.stringify({ mcpServers: {} }));
    const command = claudeCodeAdapter.firstTurn({
      workdir: repo,
      promptFile,
      profile: { model: 'claude-sonnet-4-5', instructions: INSTRUCTIONS, mcpConfig },
    });

    const turn = await runTurn(command);

    expect(turn.code, turn.stderr).toBe(0);
    expect(readFileSync(path.join(repo, 'hello.txt'), 'utf8')).toBe(CONTENT);
    expect(execFileSync('git', ['tag'], { cwd: repo, encoding: 'utf8' })).toContain(
      'agent-ran-bash',
    );

    const session = turn.events.find((e) => e.type === 'session');
    expect(session).toEqual({ type: 'session', ref: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    sessionRef = session?.type === 'session' ? session.ref : undefined;
    expect(turn.events).toContainEqual({
      type: 'tool_use',
      name: 'Write',
      summary: path.join(repo, 'hello.txt'),
    });
    expect(turn.events).toContainEqual({
      type: 'tool_use',
      name: 'Bash',
      summary: 'git tag agent-ran-bash',
    });
    expect(turn.events.at(-1)).toEqual({
      type: 'result',
      isError: false,
      summary: 'Done: wrote hello.txt',
      // The CLI prices the scripted usage (1000 in, 50 out per call) itself.
      costUsd: expect.toSatisfy((cost: number) => cost > 0),
      inputTokens: 3000,
      outputTokens: 150,
    });

    // The model saw the prompt, the profile's model and instructions, and each tool's result.
    const [first, second, third] = model.scriptedRequests().map((r) => r.body as RequestBody);
    expect(model.scriptedRequests()[0]?.headers['x-api-key']).toBe('test-key');
    expect(first).toMatchObject({ model: 'claude-sonnet-4-5', stream: true });
    expect(JSON.stringify(first?.system)).toContain(INSTRUCTIONS);
    expect(JSON.stringify(first?.messages)).toContain(PROMPT);
    expect(JSON.stringify(second?.messages.at(-1))).toContain('tool_result');
    expect(JSON.stringify(third?.messages.at(-1))).toContain('tool_result');
  });

  it('resumes the session on the next turn, carrying the earlier conversation', async () => {
    expect(sessionRef).toBeDefined();
    const messageFile = path.join(dir, 'turn-2.md');
    writeFileSync(messageFile, 'A reviewer asks: is anything left?');
    const command = claudeCodeAdapter.nextTurn({
      workdir: repo,
      messageFile,
      sessionRef: sessionRef ?? null,
      profile: { model: 'claude-sonnet-4-5' },
    });
    expect(command.argv).toContain('--resume');

    const turn = await runTurn(command);

    expect(turn.code, turn.stderr).toBe(0);
    expect(turn.events).toContainEqual({ type: 'session', ref: sessionRef });
    expect(turn.events.at(-1)).toMatchObject({
      type: 'result',
      isError: false,
      summary: 'Second turn: nothing left to do',
    });
    const requests = model.scriptedRequests();
    expect(requests).toHaveLength(4);
    const messages = (requests[3]!.body as RequestBody).messages;
    const conversation = JSON.stringify(messages);
    expect(conversation).toContain(PROMPT);
    expect(conversation).toContain('"name":"Write"');
    expect(conversation).toContain('Done: wrote hello.txt');
    expect(JSON.stringify(messages.at(-1))).toContain('A reviewer asks: is anything left?');
  });
});
