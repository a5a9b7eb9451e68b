import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitHost } from '../../src/runner/remote-url.js';
import {
  createWorkspaces,
  WorkspaceError,
  type WorkspaceRepo,
  type Workspaces,
} from '../../src/runner/workspace/workspaces.js';
import { createOrigin, type Origin } from '../helpers/git.js';
import { createGitShim, type GitCall, watchCommandLines } from '../helpers/git-shim.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';

// The workspaces against the local GitHub's git over HTTP: real tokens, real git, real HTTP.
const BRANCH = 'agent/7-over-http';
const basicOf = (token: string) => Buffer.from(`x-access-token:${token}`).toString('base64');

describe('git over HTTP with a token', () => {
  let root: string;
  let origin: Origin;
  let github: LocalGitHub;
  let gitHost: GitHost;
  let repo: WorkspaceRepo;
  let workspaces: Workspaces;
  let shim: Awaited<ReturnType<typeof createGitShim>>;
  const path0 = process.env.PATH;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'git-over-http-'));
    origin = await createOrigin();
    github = await startLocalGitHub();
    github.addRepository({
      fullName: 'octo/widgets',
      id: 101,
      installationId: 7,
      gitDir: origin.path,
      defaultBranch: 'main',
    });
    gitHost = { protocol: 'http', host: github.host };
    repo = { id: 101, fullName: 'octo/widgets', cloneUrl: github.gitUrl('octo/widgets') };
    workspaces = createWorkspaces({ root, log: pino({ level: 'silent' }), gitHost });
    // The runner's git is found on PATH: this one records every run, then runs the real git.
    shim = await createGitShim();
    process.env.PATH = `${shim.dir}:${path0}`;
    process.env.WEBHOOK_SECRET = 'leak-me-webhook-secret';
  });
  afterAll(async () => {
    process.env.PATH = path0;
    delete process.env.WEBHOOK_SECRET;
    shim?.cleanup();
    await github?.close();
    await origin?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  async function mint(access: 'read' | 'write'): Promise<string> {
    const res = await fetch(`http://${github.host}/api/v3/app/installations/7/access_tokens`, {
      method: 'POST',
      body: JSON.stringify({ repository_ids: [101], permissions: { contents: access } }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { token: string }).token;
  }

  it('fetches with a read token and pushes with a write one; neither is in any argv', async () => {
    const read = await mint('read');
    const write = await mint('write');
    const watch = watchCommandLines();
    try {
      const created = await workspaces.create({
        sessionId: 's-http01',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
        auth: { token: read },
      });
      expect(created.baseSha).toBe(await origin.sha('main'));
      await writeFile(path.join(created.path, 'feature.txt'), 'feature\n');
      await workspaces.commitAll({ sessionId: 's-http01', message: 'Add the feature' });
      // GitHub refuses a push with a token that may only read.
      await expect(
        workspaces.push({ sessionId: 's-http01', repo, branch: BRANCH, auth: { token: read } }),
      ).rejects.toThrow(/403/);
      const pushed = await workspaces.push({
        sessionId: 's-http01',
        repo,
        branch: BRANCH,
        auth: { token: write },
      });
      expect(pushed.pushed).toBe(true);
      expect(await origin.sha(BRANCH)).toBe(pushed.headSha);
      await workspaces.fetch({ repo, auth: { token: read } });
    } finally {
      watch.stop();
    }

    expect(github.gitRequests.map((r) => [r.service, r.token, r.status])).toEqual(
      expect.arrayContaining([
        ['git-upload-pack', read, 200],
        ['git-receive-pack', read, 403],
        ['git-receive-pack', write, 200],
      ]),
    );
    // The runner's git runs in its mirrors and worktrees (the origin's helpers elsewhere).
    const calls = shim.calls(root);
    const remote = (verb: string) => calls.filter((c) => c.argv.includes(verb));
    expect(remote('fetch').length).toBeGreaterThanOrEqual(2);
    expect(remote('push').length).toBe(2);
    for (const token of [read, write]) {
      for (const call of calls) {
        expect(call.argv.join(' ')).not.toContain(token);
        expect(call.argv.join(' ')).not.toContain(basicOf(token));
      }
      for (const line of watch.seen) {
        expect(line).not.toContain(token);
        expect(line).not.toContain(basicOf(token));
      }
    }
    // The watcher did see git at work, git-remote-http (started from git's exec path) among it.
    expect([...watch.seen].some((line) => /git-remote-http|remote-http/.test(line))).toBe(true);
    // The header went in the environment of the commands that talk to the remote, only those.
    const pushWithWrite = remote('push').find((c) => headerOf(c) === `Basic ${basicOf(write)}`);
    expect(pushWithWrite).toBeDefined();
    expect(calls.filter((c) => headerOf(c)).every((c) => /fetch|push/.test(c.argv.join(' ')))).toBe(
      true,
    );
    for (const call of calls) {
      expect(call.argv.some((arg) => arg === '-c' || arg.startsWith('--config-env'))).toBe(false);
      expect(call.env).toMatchObject({
        HOME: '/dev/null',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_TERMINAL_PROMPT: '0',
        LC_ALL: 'C',
      });
      expect(call.env.WEBHOOK_SECRET).toBeUndefined();
    }
  });

  it('answers 401 to a revoked token, as GitHub does', async () => {
    const read = await mint('read');
    const revoked = await fetch(`http://${github.host}/api/v3/installation/token`, {
      method: 'DELETE',
      headers: { authorization: `token ${read}` },
    });
    expect(revoked.status).toBe(204);
    // git, answered 401, would ask for a user name: it may not, so the fetch fails.
    await expect(workspaces.fetch({ repo, auth: { token: read } })).rejects.toThrow(
      /could not fetch octo\/widgets: .*Username/,
    );
    expect(github.gitRequests.at(-1)).toMatchObject({ token: read, status: 401 });
  });

  it('refuses to send a token anywhere but the configured host, before git runs', async () => {
    const write = await mint('write');
    const before = github.gitRequests.length;
    const elsewhere = [
      // The same server by another name is another host.
      github.gitUrl('octo/widgets').replace('127.0.0.1', 'localhost'),
      github.gitUrl('octo/widgets').replace('http://', 'https://'),
      github.gitUrl('octo/widgets').replace('http://', 'http://x-access-token:x@'),
      origin.url,
      origin.path,
    ];
    for (const cloneUrl of elsewhere) {
      await expect(
        workspaces.fetch({ repo: { ...repo, cloneUrl }, auth: { token: write } }),
      ).rejects.toThrow(WorkspaceError);
      await expect(
        workspaces.fetch({ repo: { ...repo, cloneUrl }, auth: { token: write } }),
      ).rejects.toThrow(/refusing to send credentials for octo\/widgets to .*configured GitHub/);
    }
    expect(github.gitRequests.length).toBe(before);
  });
});

function headerOf(call: GitCall): string | undefined {
  const values = Object.entries(call.env)
    .filter(([key]) => key.startsWith('GIT_CONFIG_VALUE_'))
    .map(([, value]) => value);
  return values.find((v) => v.startsWith('Authorization: '))?.slice('Authorization: '.length);
}
