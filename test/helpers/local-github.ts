import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
}

interface PullRequest {
  number: number;
  html_url: string;
  head: { ref: string };
  base: { ref: string };
  title: string;
  body: string;
  draft: boolean;
  state: 'open' | 'closed';
}

/**
 * A local GitHub speaking the REST shapes the app uses, reached through GHE_HOST/GHE_PROTOCOL
 * (so under /api/v3). It records every call and answers 404 to anything it does not know.
 */
export async function startLocalGitHub() {
  const calls: RecordedCall[] = [];
  const pulls = new Map<string, PullRequest[]>();
  const comments: { repository: string; issue: number; body: string }[] = [];
  let nextNumber = 100;

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readJson(req);
    calls.push({ method: req.method ?? 'GET', path: url.pathname + url.search, body });
    const send = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(data));
    };
    const route = `${req.method} ${url.pathname.replace(/^\/api\/v3/, '')}`;
    const at = (pattern: RegExp) => pattern.exec(route);
    let match = at(/^POST \/app\/installations\/(\d+)\/access_tokens$/);
    if (match) {
      return send(201, {
        token: `ghs_local_installation_token_${match[1]}`,
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        permissions: { contents: 'write', issues: 'write', pull_requests: 'write' },
        repository_selection: 'all',
      });
    }
    match = at(/^GET \/repos\/([^/]+)\/([^/]+)\/pulls$/);
    if (match) {
      const head = url.searchParams.get('head')?.split(':')[1];
      const list = (pulls.get(`${match[1]}/${match[2]}`) ?? []).filter(
        (p) => p.state === 'open' && (!head || p.head.ref === head),
      );
      return send(200, list);
    }
    match = at(/^POST \/repos\/([^/]+)\/([^/]+)\/pulls$/);
    if (match) {
      const repository = `${match[1]}/${match[2]}`;
      const input = body as {
        head: string;
        base: string;
        title: string;
        body: string;
        draft?: boolean;
      };
      const number = nextNumber++;
      const pr: PullRequest = {
        number,
        html_url: `https://github.example/${repository}/pull/${number}`,
        head: { ref: input.head },
        base: { ref: input.base },
        title: input.title,
        body: input.body,
        draft: input.draft ?? false,
        state: 'open',
      };
      pulls.set(repository, [...(pulls.get(repository) ?? []), pr]);
      return send(201, pr);
    }
    match = at(/^POST \/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/);
    if (match) {
      const comment = {
        repository: `${match[1]}/${match[2]}`,
        issue: Number(match[3]),
        body: (body as { body: string }).body,
      };
      comments.push(comment);
      return send(201, { id: comments.length, body: comment.body });
    }
    return send(404, { message: 'Not Found' });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    /** Settings that point the app here. */
    env: { GHE_HOST: `127.0.0.1:${port}`, GHE_PROTOCOL: 'http' },
    calls,
    comments,
    pullsOf: (repository: string) => pulls.get(repository) ?? [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
