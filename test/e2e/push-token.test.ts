import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrigin, type Origin } from '../helpers/git.js';
import { createGitShim, watchCommandLines } from '../helpers/git-shim.js';
import { type LocalGitHub, startLocalGitHub } from '../helpers/local-github.js';
import { INSTALLATION, REPOSITORY, REPOSITORY_ID, startWorld, type World } from './harness.js';

const run = promisify(execFile);
const basicOf = (token: string) => Buffer.from(`x-access-token:${token}`).toString('base64');

// The built server pushing over real HTTP to the local GitHub with real per-operation tokens,
// while a second git server waits for anything sent its way: the app user's global git config
// redirects the repository's URL to it, and later the session's row in Postgres points at it.
describe('git tokens on the real server', () => {
  let w: World;
  let shim: Awaited<ReturnType<typeof createGitShim>>;
  let evil: LocalGitHub;
  let evilOrigin: Origin;
  let gitconfig: string;
  let home: string;

  beforeAll(async () => {
    shim = await createGitShim();
    evil = await startLocalGitHub();
    evilOrigin = await createOrigin();
    evil.addRepository({
      fullName: REPOSITORY,
      id: REPOSITORY_ID,
      installationId: INSTALLATION,
      gitDir: evilOrigin.path,
      defaultBranch: 'main',
    });
    w = await startWorld({
      engine: 'postgres',
      env: (world) => {
        home = world.home;
        // What the app user's own git config could say: every URL of the real host goes elsewhere.
        const redirect = [
          `[url "http://${evil.host}/"]`,
          `\tinsteadOf = http://${world.github.host}/`,
          `\tpushInsteadOf = http://${world.github.host}/`,
          '',
        ].join('\n');
        gitconfig = path.join(world.home, '.gitconfig');
        writeFileSync(gitconfig, redirect);
        mkdirSync(path.join(world.home, '.config', 'git'), { recursive: true });
        writeFileSync(path.join(world.home, '.config', 'git', 'config'), redirect);
        return {
          // The runner's git is found on PATH: the shim records each run, then runs git.
          PATH: `${shim.dir}:${process.env.PATH}`,
          GIT_CONFIG_GLOBAL: gitconfig,
          XDG_CONFIG_HOME: path.join(world.home, '.config'),
        };
      },
    });
  }, 180_000);
  afterAll(async () => {
    await w?.cleanup();
    await evil?.close();
    await evilOrigin?.cleanup();
    shim?.cleanup();
  }, 60_000);

  const gitTokens = () => w.github.tokens.filter((t) => t.repositoryIds !== null);
  const evilBranches = async () =>
    (
      await run('git', ['for-each-ref', '--format=%(refname)', 'refs/heads'], {
        cwd: evilOrigin.path,
      })
    ).stdout
      .split('\n')
      .filter(Boolean);

  it('the planted global config would redirect a plain git of the app user', async () => {
    // The trap is live: git run as the app user with its environment goes to the other server.
    const env = { ...process.env, HOME: home, GIT_CONFIG_GLOBAL: gitconfig };
    await run('git', ['ls-remote', w.github.gitUrl(REPOSITORY)], { env }).catch(() => {});
    expect(evil.gitRequests.length).toBeGreaterThan(0);
    evil.gitRequests.splice(0);
  });

  it('fetches and pushes with a token per operation, never in argv, never redirected', async () => {
    const watch = watchCommandLines();
    let s: Awaited<ReturnType<World['waitForSession']>>;
    try {
      await w.deliver('issues', w.labelled(80, 'Tokens per push', 'Push it with care.'));
      s = await w.waitForSession(80, ['waiting'], (x) => Boolean(x.prNumber), 120_000);
    } finally {
      watch.stop();
    }
    // The pull request opened, on the branch pushed to the configured host's repository.
    expect(w.github.findPull(REPOSITORY, s.prNumber!)).toMatchObject({ head: { ref: s.branch } });
    expect(await w.origin.sha(s.branch!)).toBe(s.headSha);

    // One token to fetch, one to push: this repository alone, the access each needed, revoked.
    const [read, write] = gitTokens();
    expect(gitTokens().map((t) => [t.repositoryIds, t.permissions.contents])).toEqual([
      [[REPOSITORY_ID], 'read'],
      [[REPOSITORY_ID], 'write'],
    ]);
    expect(read!.revokedAt).toBeInstanceOf(Date);
    expect(write!.revokedAt).toBeInstanceOf(Date);
    expect(
      w.github.calls.filter(
        (c) => c.method === 'DELETE' && c.path === '/api/v3/installation/token',
      ),
    ).toMatchObject([
      { authorization: `token ${read!.token}`, status: 204 },
      { authorization: `token ${write!.token}`, status: 204 },
    ]);
    const pushes = w.github.gitRequests.filter((r) => r.service === 'git-receive-pack');
    expect(pushes.map((r) => [r.token, r.status])).toEqual([
      [write!.token, 200],
      [write!.token, 200],
    ]);
    // The pull request was opened after the push token was gone.
    const opened = w.github.calls.findIndex(
      (c) => c.method === 'POST' && c.path.endsWith('/pulls'),
    );
    const revoked = w.github.calls.findIndex(
      (c) => c.authorization === `token ${write!.token}` && c.method === 'DELETE',
    );
    expect(revoked).toBeLessThan(opened);

    // Nothing reached the server the global config pointed at.
    expect(evil.gitRequests).toEqual([]);
    expect(evil.calls).toEqual([]);
    expect(await evilBranches()).toEqual(['refs/heads/main']);

    // No token on any git command line: neither the shim's record of the runner's git nor any
    // process's /proc/<pid>/cmdline seen while the session ran.
    // The runner's git: started by the server in its workspaces (the agent runs git there too).
    const calls = shim
      .calls(w.workspaceRoot)
      .filter((c) => c.parent.includes(`${path.sep}dist${path.sep}cli.js start`));
    const verbs = calls.map((c) => c.argv.find((a) => !a.startsWith('-')));
    expect(verbs).toEqual(expect.arrayContaining(['fetch', 'push', 'init', 'symbolic-ref']));
    for (const secret of [read!.token, write!.token].flatMap((t) => [t, basicOf(t)])) {
      for (const call of calls) expect(call.argv.join(' ')).not.toContain(secret);
      for (const line of watch.seen) expect(line).not.toContain(secret);
    }
    expect(watch.seen.size).toBeGreaterThan(0);
    // The header was in the push's environment; nothing of the app's was in any git's.
    const header = (c: (typeof calls)[number]) =>
      Object.entries(c.env).find(
        ([k, v]) => k.startsWith('GIT_CONFIG_VALUE_') && v.startsWith('Authorization'),
      )?.[1];
    expect(calls.filter((c) => c.argv.includes('push')).map(header)).toEqual([
      `Authorization: Basic ${basicOf(write!.token)}`,
    ]);
    for (const call of calls) {
      expect(call.env.HOME).toBe('/dev/null');
      expect(call.env.GIT_CONFIG_GLOBAL).toBe('/dev/null');
      for (const name of [
        'PRIVATE_KEY',
        'WEBHOOK_SECRET',
        'API_TOKEN',
        'DATABASE_URL',
        'XDG_CONFIG_HOME',
      ])
        expect(call.env[name], name).toBeUndefined();
    }
  });

  it('pushes to the configured host even when the session row says another origin', async () => {
    const [before] = await w.sessions(80);
    const sql = postgres(w.databaseUrl!, { max: 1, onnotice: () => {} });
    try {
      // Someone with the database points the session at a server of their choosing.
      await sql`update sessions set clone_url = ${evil.gitUrl(REPOSITORY)} where id = ${before!.id}`;
    } finally {
      await sql.end();
    }
    const tokensBefore = gitTokens().length;
    const comment = w.github.addComment(REPOSITORY, 80, 'alice', '/agent one more change, please');
    await w.deliver('issue_comment', w.commented(80, 'alice', comment.body, comment.id));
    const s = await w.waitForSession(
      80,
      ['waiting'],
      async (x) => (await w.turnsFinished(x.id)) === 2,
      120_000,
    );
    expect(s.headSha).not.toBe(before!.headSha);
    expect(await w.origin.sha(s.branch!)).toBe(s.headSha);
    const pushed = gitTokens().slice(tokensBefore);
    expect(
      pushed.map((t) => [t.repositoryIds, t.permissions.contents, t.revokedAt !== null]),
    ).toEqual([[[REPOSITORY_ID], 'write', true]]);
    // The other origin received nothing: no request, so no token and no commit.
    expect(evil.gitRequests).toEqual([]);
    expect(evil.calls).toEqual([]);
    expect(await evilBranches()).toEqual(['refs/heads/main']);
  });
});
