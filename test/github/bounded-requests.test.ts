import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createGitHubApp } from '../../src/github/app.js';
import type { Octokit } from '../../src/github/octokit.js';
import { loadSettings } from '../../src/settings.js';
import { generatePrivateKey } from '../helpers/processes.js';

const log = pino({ level: 'silent' });
const TOKEN_PATH = '/api/v3/app/installations/7/access_tokens';

/** A GitHub that answers as `answer` says, and counts what it was asked. */
async function startGitHub(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    paths,
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function issueToken(res: ServerResponse) {
  res.writeHead(201, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ token: 'ghs_local', expires_at: new Date(Date.now() + 3.6e6).toISOString() }),
  );
}

async function octokitFor(host: string, requestTimeoutMs?: number): Promise<Octokit> {
  const settings = loadSettings({
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: 'bounded-requests-secret',
    GHE_HOST: host,
    GHE_PROTOCOL: 'http',
  });
  // Throttling on, as in production: its rate-limit handlers are part of what is bounded.
  const { probot } = createGitHubApp(settings, log, { requestTimeoutMs });
  return (await probot!.auth(7)) as Octokit;
}

/** How long the call took to fail, and with what. */
async function failure(call: Promise<unknown>): Promise<{ error: Error; seconds: number }> {
  const started = performance.now();
  const error = await call.then(
    () => {
      throw new Error('the call succeeded');
    },
    (e: Error) => e,
  );
  return { error, seconds: (performance.now() - started) / 1000 };
}

const getIssue = (octokit: Octokit) =>
  octokit.rest.issues.get({ owner: 'octo', repo: 'widgets', issue_number: 1 });

describe('a GitHub call is bounded', () => {
  let github: Awaited<ReturnType<typeof startGitHub>> | undefined;
  afterEach(() => github?.close());

  it('a GitHub that never answers costs one deadline, not one per retry', async () => {
    github = await startGitHub(() => {}); // holds every request
    const { error, seconds } = await failure(getIssue(await octokitFor(github.host, 3_000)));
    expect(error.message).toBe('GitHub did not answer within 3 s');
    // Not tried again: the job's next attempt is the retry. (On a very busy machine the deadline
    // may pass before the request even arrives.)
    expect(github.paths.length).toBeLessThanOrEqual(1);
    expect(github.paths.every((p) => p === TOKEN_PATH)).toBe(true);
    // Probot's defaults had no deadline of their own; generous for a busy machine.
    expect(seconds).toBeLessThan(30);
  }, 60_000);

  it('a GitHub that drops every connection is tried again once, not three times', async () => {
    github = await startGitHub((req) => req.socket.destroy());
    const { error, seconds } = await failure(getIssue(await octokitFor(github.host)));
    expect(error.message).toMatch(/other side closed|socket hang up|terminated|ECONNRESET/i);
    // One retry of the call, and of the installation token inside it: at most four requests
    // (Probot's defaults made sixteen, with waits adding up to more than a minute).
    expect(github.paths.length).toBeGreaterThanOrEqual(2);
    expect(github.paths.length).toBeLessThanOrEqual(4);
    expect(new Set(github.paths)).toEqual(new Set([TOKEN_PATH]));
    expect(seconds).toBeLessThan(45);
  }, 90_000);

  it('a rate limit that lifts in an hour fails the call at once instead of waiting', async () => {
    github = await startGitHub((req, res) => {
      if (req.url === TOKEN_PATH) return issueToken(res);
      res.writeHead(403, {
        'content-type': 'application/json',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      });
      res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
    });
    const { error, seconds } = await failure(getIssue(await octokitFor(github.host)));
    expect(error.message).toContain('API rate limit exceeded');
    expect(github.paths.filter((p) => p !== TOKEN_PATH)).toHaveLength(1);
    expect(seconds).toBeLessThan(15);
  }, 60_000);

  it('a short secondary rate limit is waited out once, then the call fails', async () => {
    github = await startGitHub((req, res) => {
      if (req.url === TOKEN_PATH) return issueToken(res);
      res.writeHead(403, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ message: 'You have exceeded a secondary rate limit' }));
    });
    const { error, seconds } = await failure(getIssue(await octokitFor(github.host)));
    expect(error.message).toContain('secondary rate limit');
    expect(github.paths.filter((p) => p !== TOKEN_PATH)).toHaveLength(2);
    expect(seconds).toBeLessThan(30);
  }, 60_000);
});
