import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Anthropic Messages API that answers from a script, so a real agent CLI
 * (Claude Code) can run a whole turn against it. It listens on 127.0.0.1 only.
 *
 * Requests that carry tools are the agent's own loop: each takes the next step of the script.
 * Requests without tools are the CLI's side calls (titles, quota checks, summaries): they get a
 * short plain text and consume no step, so a script only describes the conversation itself.
 */

export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

export interface ScriptedReply {
  content: ScriptedBlock[];
  /** Defaults to `tool_use` when the reply uses a tool, else `end_turn`. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens';
  /** Reported in message_start / message_delta; the CLI derives its cost from these. */
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number };
}

export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body was JSON, the raw text otherwise (`''` when empty). */
  body: unknown;
  /** Which step of the script answered it; undefined for side calls and other endpoints. */
  step?: number | undefined;
}

/** Steps in order, or a function choosing the reply for the n-th (0-based) agent-loop request. */
export type Script = ScriptedReply[] | ((request: RecordedRequest, step: number) => ScriptedReply);

export interface ScriptedModelOptions {
  script: Script;
  /** The text for side calls and for agent-loop requests past the end of the script. */
  fallbackText?: string;
  /** Called with one line per request, e.g. `console.log` while writing a test. */
  log?: (line: string) => void;
}

export interface ScriptedModel {
  /** `http://127.0.0.1:<port>`: the value for ANTHROPIC_BASE_URL. */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Only the requests answered by a script step. */
  scriptedRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export function textReply(text: string): ScriptedReply {
  return { content: [{ type: 'text', text }] };
}

export function toolUseReply(
  name: string,
  input: Record<string, unknown>,
  text?: string,
): ScriptedReply {
  const content: ScriptedBlock[] = text === undefined ? [] : [{ type: 'text', text }];
  content.push({ type: 'tool_use', name, input });
  return { content };
}

interface MessagesBody {
  model?: unknown;
  stream?: unknown;
  tools?: unknown;
}

export async function startScriptedModel(options: ScriptedModelOptions): Promise<ScriptedModel> {
  const { script, fallbackText = 'OK', log } = options;
  const requests: RecordedRequest[] = [];
  let steps = 0;

  const nextReply = (request: RecordedRequest): ScriptedReply => {
    const step = steps++;
    request.step = step;
    if (typeof script === 'function') return script(request, step);
    return script[step] ?? textReply(fallbackText);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: parseBody(text),
      };
      requests.push(request);
      try {
        route(request, res);
      } catch (error) {
        sendJson(res, 500, apiError('api_error', (error as Error).message));
      }
      log?.(`${request.method} ${request.path} -> ${res.statusCode}${stepNote(request)}`);
    });
  });

  const route = (request: RecordedRequest, res: ServerResponse) => {
    const pathname = request.path.split('?')[0];
    if (request.method === 'HEAD' || (request.method === 'GET' && pathname === '/')) {
      // The CLI probes the base URL before its first call.
      res.writeHead(200).end();
      return;
    }
    if (request.method === 'POST' && pathname === '/v1/messages/count_tokens') {
      sendJson(res, 200, { input_tokens: estimateTokens(request.body) });
      return;
    }
    if (request.method === 'POST' && pathname === '/v1/messages') {
      const body = (request.body ?? {}) as MessagesBody;
      const model = typeof body.model === 'string' ? body.model : 'claude-scripted';
      const agentLoop = Array.isArray(body.tools) && body.tools.length > 0;
      const reply = agentLoop ? nextReply(request) : textReply(fallbackText);
      if (body.stream === true) streamMessage(res, model, reply);
      else sendJson(res, 200, wholeMessage(model, reply));
      return;
    }
    sendJson(res, 404, apiError('not_found_error', `no route for ${request.method} ${pathname}`));
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    scriptedRequests: () => requests.filter((r) => r.step !== undefined),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function stepNote(request: RecordedRequest): string {
  return request.step === undefined ? '' : ` (step ${request.step})`;
}

function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function apiError(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}

function estimateTokens(body: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(body ?? '').length / 4));
}

interface WireBlock {
  type: 'text' | 'tool_use';
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

function wireBlocks(reply: ScriptedReply): WireBlock[] {
  return reply.content.map((block) =>
    block.type === 'text'
      ? { type: 'text', text: block.text }
      : { type: 'tool_use', id: block.id ?? newId('toolu'), name: block.name, input: block.input },
  );
}

function stopReason(reply: ScriptedReply): string {
  return (
    reply.stopReason ?? (reply.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn')
  );
}

function usage(reply: ScriptedReply) {
  return {
    input_tokens: reply.usage?.inputTokens ?? 1000,
    output_tokens: reply.usage?.outputTokens ?? 50,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: reply.usage?.cacheReadInputTokens ?? 0,
  };
}

function wholeMessage(model: string, reply: ScriptedReply) {
  return {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model,
    content: wireBlocks(reply),
    stop_reason: stopReason(reply),
    stop_sequence: null,
    usage: usage(reply),
  };
}

/** The Messages API's server-sent events, in the order the real API sends them. */
function streamMessage(res: ServerResponse, model: string, reply: ScriptedReply) {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const counts = usage(reply);

  send('message_start', {
    message: {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...counts, output_tokens: 1 },
    },
  });
  wireBlocks(reply).forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index, delta: { type: 'text_delta', text: block.text } });
    } else {
      send('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      send('content_block_delta', {
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      });
    }
    send('content_block_stop', { index });
  });
  send('message_delta', {
    delta: { stop_reason: stopReason(reply), stop_sequence: null },
    usage: { output_tokens: counts.output_tokens },
  });
  send('message_stop', {});
  res.end();
}

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}
