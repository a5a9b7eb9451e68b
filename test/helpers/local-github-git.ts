import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/** A git request the local GitHub answered. */
export interface GitRequest {
  method: string;
  /** `owner/name` as the URL spelled it. */
  repository: string;
  service: 'git-upload-pack' | 'git-receive-pack';
  /** The token its HTTP Basic credentials carried, live or not; null without one. */
  token: string | null;
  status: number;
}

/** `/<owner>/<name>.git/<rest>`: the repository and what of it is asked for, or null. */
export function gitPath(pathname: string) {
  const m = /^\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(pathname);
  return m ? { repository: `${m[1]}/${m[2]}`, rest: m[3]! } : null;
}

/** The smart HTTP service a request is for (GitHub serves no dumb protocol), or null. */
export function gitService(rest: string, query: URLSearchParams) {
  if (rest === '/info/refs') {
    const service = query.get('service');
    return service === 'git-upload-pack' || service === 'git-receive-pack' ? service : null;
  }
  if (rest === '/git-upload-pack') return 'git-upload-pack';
  if (rest === '/git-receive-pack') return 'git-receive-pack';
  return null;
}

/**
 * Answers a smart HTTP git request from a bare repository with `git http-backend` as a CGI: the
 * request's body streamed to it, its CGI headers (`Status:` among them) parsed into the answer,
 * the rest streamed back. The caller has checked the credentials.
 */
export function serveGit(
  req: IncomingMessage,
  res: ServerResponse,
  gitDir: string,
  rest: string,
  query: string,
): Promise<number> {
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : '';
  };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROJECT_ROOT: path.dirname(gitDir),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${path.basename(gitDir)}${rest}`,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: query,
    CONTENT_TYPE: header('content-type'),
    // Set only when the credentials were good; http-backend takes pushes only with one.
    REMOTE_USER: 'x-access-token',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  if (header('content-length')) env.CONTENT_LENGTH = header('content-length');
  if (header('content-encoding')) env.HTTP_CONTENT_ENCODING = header('content-encoding');
  if (header('git-protocol')) env.HTTP_GIT_PROTOCOL = header('git-protocol');

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => {}); // a backend that answered without reading everything
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (sent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = headEnd(head);
      if (!end) return;
      const { status, headers } = cgiHeaders(head.subarray(0, end.at).toString('latin1'));
      res.writeHead(status, headers);
      sent = true;
      const body = head.subarray(end.at + end.length);
      if (body.length > 0) res.write(body);
    });
    child.on('close', (code) => {
      if (!sent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.write(`git http-backend exited with ${code}: ${stderr}`);
      }
      res.end();
      resolve(res.statusCode);
    });
  });
}

function headEnd(buffer: Buffer): { at: number; length: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  return lf >= 0 ? { at: lf, length: 2 } : null;
}

function cgiHeaders(text: string) {
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const name = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers };
}
