import http from 'node:http';
import net from 'node:net';
import { type EgressTarget, formatTarget } from './egress-target.js';

/** Called with every upstream socket, so closing the proxy can break it. */
export type TrackSocket = (socket: net.Socket) => void;

/**
 * Connects to an allowed CONNECT target, answers 200 and pipes bytes both ways; answers 502 with
 * the reason when the connection fails. Ends are passed on, so nothing written is cut off.
 */
export function tunnel(client: net.Socket, head: Buffer, target: EgressTarget, track: TrackSocket) {
  const upstream = net.connect({ host: target.host, port: target.port });
  track(upstream);
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client).pipe(upstream);
  });
  upstream.on('error', (error) => {
    if (connected) client.destroy();
    else answerConnect(client, 502, unreachableText(target, error));
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => {
    if (!connected) upstream.destroy();
  });
}

/** Forwards an absolute-form request to an allowed target and streams the response back. */
export function forwardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: EgressTarget & { path: string },
  track: TrackSocket,
) {
  const upstream = http.request({
    host: target.host,
    port: target.port,
    method: req.method,
    path: target.path,
    headers: withoutHopByHop(req.headers),
    agent: false,
  });
  upstream.on('socket', track);
  upstream.on('response', (response) => {
    res.writeHead(response.statusCode ?? 502, withoutHopByHop(response.headers));
    response.on('error', () => res.destroy());
    response.pipe(res);
  });
  upstream.on('error', (error) => {
    if (res.headersSent) res.destroy();
    else replyText(res, 502, unreachableText(target, error));
  });
  req.on('error', () => upstream.destroy());
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

/** Answers a CONNECT on its raw socket and closes it. */
export function answerConnect(socket: net.Socket, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Answers a plain request with a line of text and closes the connection. */
export function replyText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`${text}\n`);
}

function unreachableText(target: EgressTarget, error: Error): string {
  return `Could not connect to ${formatTarget(target)}: ${error.message}`;
}

/** Headers about one hop, not the message: a proxy never passes them on (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) kept[name] = value;
  }
  return kept;
}
