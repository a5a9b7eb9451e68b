import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EgressProxy, startEgressProxy } from '../../../src/runner/sandbox/egress-proxy.js';

// The proxy on its Unix socket, driven from the host with node's own HTTP client: what the
// sandbox story does not show (streaming, closing, bad requests, bad configuration).
const log = pino({ level: 'silent' });
let dir: string;
let server: http.Server;
let port: number;
/** Requests the host server holds open until the test releases them. */
const held = new Map<string, { req: http.IncomingMessage; res: http.ServerResponse }>();
const arrived = new Set<() => void>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ao-egress-proxy-'));
  server = http.createServer((req, res) => {
    held.set(req.url!, { req, res });
    for (const listener of arrived) listener();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

const started: EgressProxy[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((proxy) => proxy.close()));
});

async function startProxy(onRefused = () => {}): Promise<EgressProxy & { socketPath: string }> {
  const socketPath = join(dir, `proxy-${started.length}-${Date.now()}.sock`);
  const proxy = await startEgressProxy({
    socketPath,
    allow: [`127.0.0.1:${port}`],
    onRefused,
    log,
  });
  started.push(proxy);
  return { ...proxy, socketPath };
}

/** The host server's side of the request for `path`, once it arrives. */
function heldRequest(path: string) {
  return new Promise<{ req: http.IncomingMessage; res: http.ServerResponse }>((resolve) => {
    const check = () => {
      const found = held.get(path);
      if (found) {
        arrived.delete(check);
        resolve(found);
      }
    };
    arrived.add(check);
    check();
  });
}

/** The next chunk a stream gives. */
function nextChunk(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) =>
    stream.once('data', (chunk: Buffer) => resolve(chunk.toString())),
  );
}

function request(socketPath: string, options: http.RequestOptions) {
  return http.request({ socketPath, agent: false, ...options });
}

function responseOf(req: http.ClientRequest) {
  return new Promise<http.IncomingMessage>((resolve, reject) =>
    req.on('response', resolve).on('error', reject),
  );
}

async function bodyOf(response: http.IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of response) body += chunk;
  return body;
}

describe('the egress proxy', () => {
  it('streams a request body and a response both ways, holding neither', async () => {
    const proxy = await startProxy();
    const upload = request(proxy.socketPath, {
      method: 'POST',
      path: `http://127.0.0.1:${port}/stream`,
    });
    const response = responseOf(upload);
    upload.write('first part of the upload');
    const upstream = await heldRequest('/stream');
    expect(await nextChunk(upstream.req)).toBe('first part of the upload');

    upstream.res.writeHead(200, { 'content-type': 'text/plain' });
    upstream.res.write('first token');
    const answer = await response;
    expect(await nextChunk(answer)).toBe('first token');

    upstream.res.end('last token');
    upload.end();
    expect(await bodyOf(answer)).toBe('last token');
  });

  it('a request that is neither CONNECT nor absolute-form gets 400', async () => {
    const proxy = await startProxy();
    const response = await responseOf(request(proxy.socketPath, { path: '/' }).end());
    expect(response.statusCode).toBe(400);
    expect(await bodyOf(response)).toContain('send CONNECT host:port or GET http://host/path');
  });

  it('a refusal is still answered 403 when recording it fails', async () => {
    const proxy = await startProxy(() => {
      throw new Error('the database is down');
    });
    const refused = request(proxy.socketPath, { path: 'http://blocked.example/' }).end();
    const response = await responseOf(refused);
    expect(response.statusCode).toBe(403);
    expect(await bodyOf(response)).toContain('blocked.example:80 was refused');
  });

  it('close breaks an open tunnel and removes the socket file', async () => {
    const proxy = await startProxy();
    const connect = request(proxy.socketPath, { method: 'CONNECT', path: `127.0.0.1:${port}` });
    const tunnel = await new Promise<Socket>((resolve, reject) =>
      connect
        .on('connect', (_res, socket: Socket) => resolve(socket))
        .on('error', reject)
        .end(),
    );
    tunnel.write('GET /tunnelled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const upstream = await heldRequest('/tunnelled');
    upstream.res.writeHead(200, { 'content-length': '100' });
    upstream.res.write('part of a long answer');
    expect(await nextChunk(tunnel)).toContain('part of a long answer');

    const tunnelClosed = new Promise((resolve) => tunnel.on('close', resolve));
    tunnel.on('error', () => {});
    await proxy.close();
    await tunnelClosed;
    expect(existsSync(proxy.socketPath)).toBe(false);
  });

  it('an invalid allow entry fails the start, naming the entry', async () => {
    await expect(
      startEgressProxy({
        socketPath: join(dir, 'never.sock'),
        allow: ['example.com', 'https://example.org'],
        onRefused: () => {},
        log,
      }),
    ).rejects.toThrow('egress.allow entry "https://example.org" is not valid');
    expect(existsSync(join(dir, 'never.sock'))).toBe(false);
  });
});
