import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session, SessionEvent } from '../../src/db/schema.js';
import {
  API_TOKEN,
  type CliHarness,
  closedPort,
  REPOSITORY,
  startCliHarness,
} from '../cli/harness.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

type ToolResult = { content: { type: string; text: string }[]; isError?: boolean };

describe('agent-orchestrator mcp, driven by a real MCP client', () => {
  let h: CliHarness;
  let client: Client;
  let stderr = '';

  /** A client that spawns `agent-orchestrator mcp` with this environment. */
  async function connect(env: Record<string, string>): Promise<Client> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', TSX, CLI, 'mcp'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const c = new Client({ name: 'test-orchestrating-agent', version: '1.0.0' });
    await c.connect(transport);
    return c;
  }

  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as ToolResult;
  const json = <T>(result: ToolResult): T => JSON.parse(result.content[0]!.text) as T;

  beforeAll(async () => {
    h = await startCliHarness();
    client = await connect({ AGENT_ORCHESTRATOR_URL: h.orchestrator.url, API_TOKEN });
  });
  afterAll(async () => {
    await client?.close();
    await h?.cleanup();
  });

  it('lists its tools, each with a description and an input schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'list_sessions',
      'send_message',
      'show_session',
      'start_session',
      'stop_session',
    ]);
    for (const tool of tools) {
      expect(tool.description).toBeTruthy();
      expect(tool.inputSchema.type).toBe('object');
    }
    const start = tools.find((t) => t.name === 'start_session')!;
    expect(start.inputSchema.required).toEqual(['repository', 'issue']);
  });

  let id: string;

  it('starts a session, lists and shows it, and sends it a message', async () => {
    h.addIssue(20, 'Add dark mode', 'Widgets need a dark theme.');
    const started = await call('start_session', {
      repository: REPOSITORY,
      issue: 20,
      message: 'Use CSS variables.',
    });
    expect(started.isError, started.content[0]?.text).toBeFalsy();
    id = json<{ session: Session }>(started).session.id;
    await h.until('the first turn', async () => (await h.session(id))?.prNumber);

    const listed = json<{ sessions: Session[] }>(
      await call('list_sessions', { status: 'waiting' }),
    );
    expect(listed.sessions.map((s) => s.id)).toContain(id);
    expect(listed.sessions[0]).not.toHaveProperty('context');

    const shown = json<{ session: Session; events: SessionEvent[] }>(
      await call('show_session', { id, events: 3 }),
    );
    expect(shown.session).toMatchObject({ id, issueNumber: 20, status: 'waiting' });
    expect(shown.events).toHaveLength(3);

    const sent = await call('send_message', { id, message: 'Also the settings page.' });
    expect(json(sent)).toEqual({ queued: true });
    await h.until('the message to be delivered', async () => {
      const { body } = await h.api<{ events: SessionEvent[] }>(`/api/sessions/${id}/events`);
      return body.events.some((e) => e.kind === 'messages-delivered');
    });
  });

  it('stops the session, and the stop is visible through the API', async () => {
    const stopped = await call('stop_session', { id });
    expect(stopped.isError).toBeFalsy();
    expect(json(stopped)).toEqual({ stopping: true });
    const after = await h.until('the session to stop', async () => {
      const { body } = await h.api<{ session: Session }>(`/api/sessions/${id}`);
      return body.session.status === 'stopped' ? body.session : undefined;
    });
    expect(after.statusReason).toBe('stopped through the API');
  });

  it('answers with tool errors carrying the API’s message, and keeps serving', async () => {
    const again = await call('stop_session', { id });
    expect(again.isError).toBe(true);
    expect(again.content[0]!.text).toBe(
      `The orchestrator's API answered 409: session ${id} has ended (stopped)`,
    );
    const missing = await call('show_session', { id: 's-doesnotexist1' });
    expect(missing).toMatchObject({ isError: true });
    expect(missing.content[0]!.text).toContain('404: no session s-doesnotexist1');
    const notInstalled = await call('start_session', { repository: 'octo/gadgets', issue: 1 });
    expect(notInstalled.content[0]!.text).toContain('the app is not installed on octo/gadgets');
    // Still serving.
    expect(json<{ sessions: Session[] }>(await call('list_sessions')).sessions.length).toBe(1);
    expect(stderr).toBe('');
  });

  it('reports an unreachable server as a tool error, not a crash', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const lonely = await connect({ AGENT_ORCHESTRATOR_URL: url, API_TOKEN });
    try {
      const result = (await lonely.callTool({
        name: 'list_sessions',
        arguments: {},
      })) as ToolResult;
      expect(result.isError).toBe(true);
      expect(result.content[0]!.text).toBe(`Cannot reach the server at ${url} (ECONNREFUSED)`);
      expect((await lonely.listTools()).tools).toHaveLength(5);
    } finally {
      await lonely.close();
    }
  });

  it('writes nothing but JSON-RPC to stdout, and exits 0 when stdin closes', async () => {
    const child = spawn(process.execPath, ['--import', TSX, CLI, 'mcp'], {
      env: {
        PATH: process.env.PATH ?? '',
        AGENT_ORCHESTRATOR_URL: h.orchestrator.url,
        API_TOKEN,
        LOG_LEVEL: 'trace',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const answered = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (lines.length === 2) resolve();
      });
    });
    const send = (message: object) =>
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    send({
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      },
    });
    send({ method: 'notifications/initialized' });
    send({ id: 2, method: 'tools/call', params: { name: 'list_sessions', arguments: {} } });
    await answered;
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const messages = lines.map((l) => JSON.parse(l) as { jsonrpc: string; id: number });
    expect(messages.map((m) => [m.jsonrpc, m.id])).toEqual([
      ['2.0', 1],
      ['2.0', 2],
    ]);
  });
});
