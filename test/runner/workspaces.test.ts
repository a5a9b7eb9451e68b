import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsafeNameError } from '../../src/runner/names.js';
import { exists } from '../../src/runner/workspace/exists.js';
import {
  createWorkspaces,
  PushRejectedError,
  type WorkspaceCheckout,
  WorkspaceError,
  type WorkspaceRepo,
  type Workspaces,
} from '../../src/runner/workspace/workspaces.js';
import { createOrigin, git, type Origin, refSha } from '../helpers/git.js';
import { unmountUnder } from '../helpers/mounts.js';

const silent = pino({ level: 'silent' });
const BRANCH = 'agent/12-add-widgets';

let root: string;
let origin: Origin;
let repo: WorkspaceRepo;
let workspaces: Workspaces;
const cleanups: (() => Promise<unknown>)[] = [];

/** Every behaviour holds for both ways of laying out a session's files. */
const CHECKOUTS: WorkspaceCheckout[] = ['worktree', 'overlay'];
let checkout: WorkspaceCheckout;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'workspaces-'));
  origin = await createOrigin({ files: 2 });
  repo = { id: 101, fullName: 'octo/widgets', cloneUrl: origin.url };
  cleanups.push(
    () => unmountUnder(root),
    () => rm(root, { recursive: true, force: true }),
    () => origin.cleanup(),
  );
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const mirrorOf = (id: number) => path.join(root, 'mirrors', `${id}.git`);
async function branchesIn(repository: string): Promise<string[]> {
  const out = await git(repository, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']);
  return out ? out.split('\n').sort() : [];
}

async function worktreesOf(repository: string): Promise<string[]> {
  const out = await git(repository, ['worktree', 'list', '--porcelain']);
  return out
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
    .filter((worktree) => worktree !== repository);
}

/** Every file under a folder, as bytes, with its path. */
async function filesUnder(dir: string): Promise<{ file: string; content: Buffer }[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((entry) => entry.isFile());
  return Promise.all(
    files.map(async (entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, content: await readFile(file) };
    }),
  );
}

/** An HTTP server standing in for GitHub: records request headers and answers 403, or hangs. */
async function fakeRemote(mode: 'refuse' | 'hang') {
  const requests: IncomingHttpHeaders[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    requests.push(request.headers);
    if (mode === 'refuse') response.writeHead(403).end('forbidden');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return { url: `http://127.0.0.1:${port}/octo/widgets.git`, requests, close };
}

describe.each(CHECKOUTS)('with %s checkout', (mode) => {
  beforeEach(() => {
    checkout = mode;
    workspaces = createWorkspaces({ root, log: silent, checkout });
  });

  describe('mirror', () => {
    it('is created once with the settings the runner relies on, then only fetched', async () => {
      const first = await workspaces.create({
        sessionId: 's-first1',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      const mirror = mirrorOf(101);
      expect(first.baseSha).toBe(await origin.sha('main'));
      expect(await git(mirror, ['rev-parse', '--is-bare-repository'])).toBe('true');
      expect(await git(mirror, ['config', '--local', 'remote.origin.fetch'])).toBe(
        '+refs/heads/*:refs/remotes/origin/*',
      );
      expect(await git(mirror, ['config', '--local', 'gc.autoDetach'])).toBe('false');
      expect(await git(mirror, ['config', '--local', 'user.name'])).toBe('Agent Orchestrator');
      expect(await git(mirror, ['config', '--local', 'user.email'])).toBe(
        'agent-orchestrator@users.noreply.github.com',
      );
      await expect(git(mirror, ['config', '--local', 'remote.origin.mirror'])).rejects.toThrow();
      // Only the session branch is local: the remote's branches stay under origin/.
      expect(await branchesIn(mirror)).toEqual([BRANCH]);

      await writeFile(path.join(mirror, 'marker'), 'still the same mirror');
      const newer = await origin.commit({ 'NEWS.md': 'news\n' });
      const second = await workspaces.create({
        sessionId: 's-second2',
        repo,
        branch: 'agent/13-more',
        baseBranch: 'main',
      });

      expect(second.baseSha).toBe(newer);
      expect(second.headSha).toBe(newer);
      expect(await readFile(path.join(second.path, 'NEWS.md'), 'utf8')).toBe('news\n');
      expect(await readFile(path.join(mirror, 'marker'), 'utf8')).toBe('still the same mirror');
    });

    it('takes the author of commits from the identity given', async () => {
      const named = createWorkspaces({
        root,
        log: silent,
        checkout,
        identity: { name: 'Widget Bot', email: 'bot@example.com' },
      });
      await named.create({ sessionId: 's-author1', repo, branch: BRANCH, baseBranch: 'main' });
      await writeFile(path.join(named.pathFor('s-author1'), 'a.txt'), 'a\n');
      const sha = await named.commitAll({ sessionId: 's-author1', message: 'Add a' });
      expect(await git(mirrorOf(101), ['log', '-1', '--format=%an <%ae>', sha!])).toBe(
        'Widget Bot <bot@example.com>',
      );
    });
  });

  describe('create', () => {
    it('adds a worktree on the session branch from the base, with no upstream', async () => {
      const developSha = await origin.commit({ 'develop.txt': 'd\n' }, { branch: 'develop' });
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'develop',
      });

      expect(created).toEqual({
        path: path.join(root, 'sessions', 's-abc123'),
        baseSha: developSha,
        headSha: developSha,
      });
      expect(workspaces.pathFor('s-abc123')).toBe(created.path);
      expect(await git(created.path, ['symbolic-ref', 'HEAD'])).toBe(`refs/heads/${BRANCH}`);
      expect(await git(created.path, ['rev-parse', 'HEAD'])).toBe(developSha);
      expect(await readFile(path.join(created.path, 'src/file-2.txt'), 'utf8')).toBe('file 2\n');
      await expect(git(created.path, ['config', `branch.${BRANCH}.remote`])).rejects.toThrow();
      await expect(git(created.path, ['rev-parse', '--abbrev-ref', '@{upstream}'])).rejects.toThrow(
        /no upstream/,
      );
      expect(await workspaces.headSha('s-abc123')).toBe(developSha);
      expect(await workspaces.listSessions()).toEqual(['s-abc123']);
    });

    it('says in plain words when the base branch does not exist', async () => {
      const attempt = workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'develop',
      });
      await expect(attempt).rejects.toThrow(WorkspaceError);
      await expect(attempt).rejects.toThrow("base branch 'develop' does not exist in octo/widgets");
      expect(await exists(workspaces.pathFor('s-abc123'))).toBe(false);
    });

    it('says which repository could not be fetched, and leaves no half-made mirror', async () => {
      const missing = { ...repo, cloneUrl: `${origin.url}-missing` };
      const attempt = workspaces.create({
        sessionId: 's-abc123',
        repo: missing,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await expect(attempt).rejects.toThrow(
        /could not prepare a worktree for octo\/widgets: .*does not appear to be a git repository/,
      );
      expect(await readdir(path.join(root, 'mirrors'))).toEqual([]);
      // The next attempt, with a reachable origin, starts afresh.
      await workspaces.create({ sessionId: 's-abc123', repo, branch: BRANCH, baseBranch: 'main' });
    });

    it('returns the same worktree when a spawn is retried', async () => {
      const first = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await writeFile(path.join(first.path, 'work.txt'), 'in progress\n');
      const again = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      expect(again).toEqual(first);
      expect(await readFile(path.join(first.path, 'work.txt'), 'utf8')).toBe('in progress\n');
    });

    it('refuses a branch another session has checked out', async () => {
      await workspaces.create({ sessionId: 's-first1', repo, branch: BRANCH, baseBranch: 'main' });
      await expect(
        workspaces.create({ sessionId: 's-second2', repo, branch: BRANCH, baseBranch: 'main' }),
      ).rejects.toThrow(`branch '${BRANCH}' is already checked out in another worktree`);
    });

    it('creates ten worktrees on one repository at once', async () => {
      const ids = Array.from({ length: 10 }, (_, i) => `s-many${i}x`);
      const created = await Promise.all(
        ids.map((sessionId, i) =>
          workspaces.create({ sessionId, repo, branch: `agent/${i}-many`, baseBranch: 'main' }),
        ),
      );
      const main = await origin.sha('main');
      expect(created.map((workspace) => workspace.headSha)).toEqual(ids.map(() => main));
      expect((await worktreesOf(mirrorOf(101))).sort()).toEqual(
        ids.map((id) => workspaces.pathFor(id)).sort(),
      );
      expect(await branchesIn(mirrorOf(101))).toEqual(ids.map((_, i) => `agent/${i}-many`).sort());
      expect(await workspaces.listSessions()).toEqual([...ids].sort());
    });

    it('works on two repositories in parallel, each in its own mirror', async () => {
      const other = await createOrigin();
      cleanups.push(() => other.cleanup());
      const otherSha = await other.commit({ 'other.txt': 'other\n' });
      const second: WorkspaceRepo = { id: 202, fullName: 'octo/gadgets', cloneUrl: other.url };
      const created = await Promise.all(
        [0, 1, 2, 3].flatMap((i) => [
          workspaces.create({
            sessionId: `s-widget${i}`,
            repo,
            branch: `agent/${i}-w`,
            baseBranch: 'main',
          }),
          workspaces.create({
            sessionId: `s-gadget${i}`,
            repo: second,
            branch: `agent/${i}-g`,
            baseBranch: 'main',
          }),
        ]),
      );
      expect(created.filter((workspace) => workspace.headSha === otherSha)).toHaveLength(4);
      expect(await exists(path.join(workspaces.pathFor('s-gadget3'), 'other.txt'))).toBe(true);
      expect(await exists(path.join(workspaces.pathFor('s-widget3'), 'other.txt'))).toBe(false);
      expect(await worktreesOf(mirrorOf(101))).toHaveLength(4);
      expect(await worktreesOf(mirrorOf(202))).toHaveLength(4);
    });

    it('does not make one repository wait for another', async () => {
      const stuck = await fakeRemote('hang');
      const slow = workspaces.create({
        sessionId: 's-stuck1',
        repo: { id: 303, fullName: 'octo/stuck', cloneUrl: stuck.url },
        branch: BRANCH,
        baseBranch: 'main',
      });
      const settled = slow.then(
        () => 'created',
        () => 'failed',
      );
      await expect.poll(() => stuck.requests.length, { timeout: 30_000 }).toBeGreaterThan(0);
      // The stuck fetch still holds its repository's lock while this one completes.
      await workspaces.create({ sessionId: 's-free01', repo, branch: BRANCH, baseBranch: 'main' });
      expect(await Promise.race([settled, 'pending'])).toBe('pending');
      await stuck.close();
      expect(await settled).toBe('failed');
    });
  });

  describe('remove', () => {
    it('leaves no worktree, branch or folder, and is fine to repeat', async () => {
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await writeFile(path.join(created.path, 'untracked.txt'), 'dirty\n');
      await writeFile(path.join(created.path, 'README.md'), 'modified\n');

      await workspaces.remove({ sessionId: 's-abc123', repo, branch: BRANCH });

      expect(await exists(created.path)).toBe(false);
      expect(await worktreesOf(mirrorOf(101))).toEqual([]);
      expect(await branchesIn(mirrorOf(101))).toEqual([]);
      expect(await workspaces.listSessions()).toEqual([]);
      await workspaces.remove({ sessionId: 's-abc123', repo, branch: BRANCH });
      await workspaces.remove({
        sessionId: 's-never1',
        repo: { ...repo, id: 999 },
        branch: BRANCH,
      });
    });

    it('removes a folder git no longer knows about', async () => {
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await rm(path.join(created.path, '.git'));
      await workspaces.remove({ sessionId: 's-abc123', repo, branch: BRANCH });
      expect(await exists(created.path)).toBe(false);
      expect(await worktreesOf(mirrorOf(101))).toEqual([]);
      expect(await branchesIn(mirrorOf(101))).toEqual([]);
    });

    it('finds the repository and branch from the worktree when the session is unknown', async () => {
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await mkdir(path.join(root, 'sessions', 's-stray1'));
      expect(await workspaces.listSessions()).toEqual(['s-abc123', 's-stray1']);

      await workspaces.remove({ sessionId: 's-abc123', repo: null, branch: null });
      await workspaces.remove({ sessionId: 's-stray1', repo: null, branch: null });

      expect(await exists(created.path)).toBe(false);
      expect(await worktreesOf(mirrorOf(101))).toEqual([]);
      expect(await branchesIn(mirrorOf(101))).toEqual([]);
      expect(await workspaces.listSessions()).toEqual([]);
    });
  });

  describe('a root reached through a symlink', () => {
    it('still recognises its worktrees, which git lists by their real path', async () => {
      const real = path.join(root, 'real');
      await mkdir(real);
      await symlink(real, path.join(root, 'link'));
      const linked = createWorkspaces({ root: path.join(root, 'link'), log: silent, checkout });
      const first = await linked.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      expect(
        await linked.create({ sessionId: 's-abc123', repo, branch: BRANCH, baseBranch: 'main' }),
      ).toEqual(first);
      await linked.remove({ sessionId: 's-abc123', repo: null, branch: null });
      expect(await branchesIn(path.join(real, 'mirrors', '101.git'))).toEqual([]);
      expect(await exists(first.path)).toBe(false);
    });
  });

  describe('commitAll and push', () => {
    it('reach the origin, report when nothing changed, and survive a history rewrite', async () => {
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      expect(
        await workspaces.commitAll({ sessionId: 's-abc123', message: 'Nothing yet' }),
      ).toBeNull();

      await writeFile(path.join(created.path, 'feature.txt'), 'feature\n');
      await rm(path.join(created.path, 'src/file-1.txt'));
      const sha = await workspaces.commitAll({ sessionId: 's-abc123', message: 'Add the feature' });
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
      expect(await git(created.path, ['status', '--porcelain'])).toBe('');
      expect(await git(created.path, ['log', '-1', '--format=%s'])).toBe('Add the feature');
      expect(await workspaces.commitAll({ sessionId: 's-abc123', message: 'Again' })).toBeNull();

      expect(await workspaces.push({ sessionId: 's-abc123', repo, branch: BRANCH })).toEqual({
        headSha: sha,
        pushed: true,
      });
      expect(await origin.sha(BRANCH)).toBe(sha);
      expect(await workspaces.push({ sessionId: 's-abc123', repo, branch: BRANCH })).toEqual({
        headSha: sha,
        pushed: false,
      });

      // The agent rewrites what it pushed.
      await git(created.path, [
        'commit',
        '--quiet',
        '--amend',
        '--message=Add the feature, reworded',
      ]);
      const rewritten = await workspaces.headSha('s-abc123');
      expect(rewritten).not.toBe(sha);
      expect(await workspaces.push({ sessionId: 's-abc123', repo, branch: BRANCH })).toEqual({
        headSha: rewritten,
        pushed: true,
      });
      expect(await origin.sha(BRANCH)).toBe(rewritten);
    });

    it('never overwrites a commit someone else pushed to the branch', async () => {
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await writeFile(path.join(created.path, 'feature.txt'), 'feature\n');
      await workspaces.commitAll({ sessionId: 's-abc123', message: 'Add the feature' });
      await workspaces.push({ sessionId: 's-abc123', repo, branch: BRANCH });
      const theirs = await origin.commit(
        { 'theirs.txt': 'a maintainer was here\n' },
        { branch: BRANCH },
      );
      // A fetch for another session brings their commit into origin/<branch>; the lease must not follow it.
      await workspaces.fetch({ repo });

      await git(created.path, ['commit', '--quiet', '--amend', '--message=Reworded']);
      const attempt = workspaces.push({ sessionId: 's-abc123', repo, branch: BRANCH });
      await expect(attempt).rejects.toThrow(PushRejectedError);
      await expect(attempt).rejects.toThrow(
        `push of '${BRANCH}' to octo/widgets was rejected: the branch changed on the remote since this runner last pushed it`,
      );
      expect(await origin.sha(BRANCH)).toBe(theirs);
    });

    it('does not force its first push over a branch that appeared on the origin meanwhile', async () => {
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      const theirs = await origin.commit({ 'theirs.txt': 'x\n' }, { branch: BRANCH });
      await writeFile(path.join(created.path, 'feature.txt'), 'feature\n');
      await workspaces.commitAll({ sessionId: 's-abc123', message: 'Add the feature' });

      const attempt = workspaces.push({ sessionId: 's-abc123', repo, branch: BRANCH });
      await expect(attempt).rejects.toThrow(PushRejectedError);
      await expect(attempt).rejects.toThrow(
        'the branch on the remote has commits the worktree does not have',
      );
      expect(await origin.sha(BRANCH)).toBe(theirs);
    });

    it('starts a respawned session from the commit already pushed', async () => {
      const first = await workspaces.create({
        sessionId: 's-first1',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await writeFile(path.join(first.path, 'feature.txt'), 'feature\n');
      const pushed = await workspaces.commitAll({
        sessionId: 's-first1',
        message: 'Add the feature',
      });
      await workspaces.push({ sessionId: 's-first1', repo, branch: BRANCH });
      // The runner died: another runner, with its own root, picks the session up.
      await unmountUnder(root);
      await rm(root, { recursive: true, force: true });
      const main = await origin.commit({ 'NEWS.md': 'news\n' });

      const respawned = await workspaces.create({
        sessionId: 's-second2',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      expect(respawned.headSha).toBe(pushed);
      expect(respawned.baseSha).toBe(main);
      expect(await readFile(path.join(respawned.path, 'feature.txt'), 'utf8')).toBe('feature\n');
      await expect(
        git(respawned.path, ['rev-parse', '--abbrev-ref', '@{upstream}']),
      ).rejects.toThrow();

      // The lease is the pushed commit, so a rewrite by the respawned agent still goes through.
      await git(respawned.path, [
        'commit',
        '--quiet',
        '--amend',
        '--message=Reworded after respawn',
      ]);
      const rewritten = await workspaces.headSha('s-second2');
      expect(await workspaces.push({ sessionId: 's-second2', repo, branch: BRANCH })).toEqual({
        headSha: rewritten,
        pushed: true,
      });
      expect(await origin.sha(BRANCH)).toBe(rewritten);
    });

    it('never commits into an enclosing repository when a worktree lost its .git', async () => {
      const outer = await mkdtemp(path.join(tmpdir(), 'outer-'));
      cleanups.push(
        () => unmountUnder(outer),
        () => rm(outer, { recursive: true, force: true }),
      );
      await git(outer, ['init', '--quiet']);
      const nested = createWorkspaces({
        root: path.join(outer, 'workspaces'),
        log: silent,
        checkout,
      });
      const created = await nested.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      await rm(path.join(created.path, '.git'));
      await writeFile(path.join(created.path, 'feature.txt'), 'feature\n');

      await expect(nested.commitAll({ sessionId: 's-abc123', message: 'Oops' })).rejects.toThrow(
        WorkspaceError,
      );
      await expect(nested.headSha('s-abc123')).rejects.toThrow(WorkspaceError);
      expect(await refSha(outer, 'HEAD')).toBeNull();
    });

    it('reports a session with no worktree', async () => {
      await expect(workspaces.headSha('s-nothere')).rejects.toThrow(
        'session s-nothere has no worktree',
      );
      await expect(workspaces.commitAll({ sessionId: 's-nothere', message: 'x' })).rejects.toThrow(
        WorkspaceError,
      );
      await expect(
        workspaces.push({ sessionId: 's-nothere', repo, branch: BRANCH }),
      ).rejects.toThrow(WorkspaceError);
    });
  });

  describe('unsafe names', () => {
    it('are refused before any git command runs', async () => {
      const attempts = [
        () =>
          workspaces.create({
            sessionId: 's-abc123/../../x',
            repo,
            branch: BRANCH,
            baseBranch: 'main',
          }),
        () =>
          workspaces.create({ sessionId: '../s-abc123', repo, branch: BRANCH, baseBranch: 'main' }),
        () => workspaces.create({ sessionId: 's-abc123', repo, branch: '-b', baseBranch: 'main' }),
        () =>
          workspaces.create({
            sessionId: 's-abc123',
            repo,
            branch: 'agent/1..x',
            baseBranch: 'main',
          }),
        () =>
          workspaces.create({
            sessionId: 's-abc123',
            repo,
            branch: BRANCH,
            baseBranch: '--upload-pack=touch',
          }),
        () => workspaces.remove({ sessionId: '../s-abc123', repo, branch: BRANCH }),
        () => workspaces.remove({ sessionId: 's-abc123', repo, branch: '--force' }),
        () => workspaces.push({ sessionId: 's-abc123', repo, branch: 'a..b' }),
        () => workspaces.commitAll({ sessionId: '/etc', message: 'x' }),
        () => workspaces.headSha('..'),
      ];
      for (const attempt of attempts) await expect(attempt()).rejects.toThrow(UnsafeNameError);
      expect(() => workspaces.pathFor('../x')).toThrow(UnsafeNameError);
      expect(await readdir(root)).toEqual([]);
    });
  });

  describe('the installation token', () => {
    const token = 'ghs_SECRETtoken0123456789abcdefghijklmn';
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');

    it('is sent as a header to the configured host only and lands nowhere on disk or in an error', async () => {
      const lines: string[] = [];
      const log = pino({ level: 'trace' }, { write: (line: string) => lines.push(line) });
      const github = await fakeRemote('refuse');
      const gitHost = { protocol: 'http' as const, host: new URL(github.url).host };
      const watched = createWorkspaces({ root, log, checkout, gitHost });
      await watched.create({ sessionId: 's-abc123', repo, branch: BRANCH, baseBranch: 'main' });
      await writeFile(path.join(watched.pathFor('s-abc123'), 'feature.txt'), 'feature\n');
      await watched.commitAll({ sessionId: 's-abc123', message: 'Add the feature' });
      // A token for a remote elsewhere than the configured host (here a file:// origin): refused.
      await expect(
        watched.push({ sessionId: 's-abc123', repo, branch: BRANCH, auth: { token } }),
      ).rejects.toThrow(/refusing to send credentials for octo\/widgets to a file: URL/);
      expect(await origin.sha(BRANCH)).toBeNull();

      const remote = { ...repo, cloneUrl: github.url };
      const errors: unknown[] = [];
      for (const attempt of [
        () =>
          watched.push({ sessionId: 's-abc123', repo: remote, branch: BRANCH, auth: { token } }),
        () => watched.fetch({ repo: remote, auth: { token } }),
        () =>
          watched.create({
            sessionId: 's-other1',
            repo: { ...remote, id: 404 },
            branch: BRANCH,
            baseBranch: 'main',
            auth: { token },
          }),
      ]) {
        errors.push(
          await attempt().then(
            () => 'no error',
            (error: unknown) => error,
          ),
        );
      }

      expect(github.requests.map((headers) => headers.authorization)).toEqual(
        github.requests.map(() => `Basic ${basic}`),
      );
      expect(github.requests.length).toBeGreaterThanOrEqual(3);
      for (const error of errors) {
        expect(error).toBeInstanceOf(WorkspaceError);
        const everything = [
          (error as Error).message,
          (error as Error).stack,
          JSON.stringify(error),
          String((error as Error).cause),
          JSON.stringify((error as Error).cause),
        ].join('\n');
        expect(everything).toContain('127.0.0.1');
        expect(everything).not.toContain(token);
        expect(everything).not.toContain(basic);
      }
      const onDisk = await filesUnder(root);
      expect(onDisk.length).toBeGreaterThan(20);
      for (const { file, content } of onDisk) {
        expect(content.includes(token), file).toBe(false);
        expect(content.includes(basic), file).toBe(false);
      }
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join('')).not.toContain(token);
      expect(lines.join('')).not.toContain(basic);
    });

    it('is not sent when the repository config would send it elsewhere', async () => {
      const attacker = await fakeRemote('refuse');
      const created = await workspaces.create({
        sessionId: 's-abc123',
        repo,
        branch: BRANCH,
        baseBranch: 'main',
      });
      // What an agent could run in its worktree: the config is the mirror's, shared by all sessions.
      await git(created.path, [
        'config',
        `url.${attacker.url}.insteadOf`,
        'https://github.com/octo/widgets.git',
      ]);

      const github = { ...repo, cloneUrl: 'https://github.com/octo/widgets.git' };
      await expect(
        workspaces.push({ sessionId: 's-abc123', repo: github, branch: BRANCH, auth: { token } }),
      ).rejects.toThrow(/refusing to send credentials for octo\/widgets: .*insteadof/);
      await expect(workspaces.fetch({ repo: github, auth: { token } })).rejects.toThrow(
        /refusing to send credentials/,
      );
      expect(attacker.requests).toEqual([]);
    });
  });
});
