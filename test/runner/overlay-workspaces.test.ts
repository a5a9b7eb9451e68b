/**
 * What WORKSPACE_CHECKOUT=overlay adds to the behaviour workspaces.test.ts checks for both
 * layouts: one shared checkout per commit, each session's changes in its own layer, mounts that
 * come back after a reboot, and shared checkouts deleted once no session stands on them.
 */
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exists } from '../../src/runner/workspace/exists.js';
import {
  createWorkspaces,
  type WorkspaceRepo,
  type Workspaces,
} from '../../src/runner/workspace/workspaces.js';
import { createOrigin, git, type Origin } from '../helpers/git.js';
import { mountsUnder, unmountUnder } from '../helpers/mounts.js';

const silent = pino({ level: 'silent' });

let root: string;
let origin: Origin;
let repo: WorkspaceRepo;
let workspaces: Workspaces;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'overlays-'));
  origin = await createOrigin({ files: 3 });
  repo = { id: 7, fullName: 'octo/widgets', cloneUrl: origin.url };
  workspaces = createWorkspaces({ root, log: silent, checkout: 'overlay' });
});

afterEach(async () => {
  await unmountUnder(root);
  await rm(root, { recursive: true, force: true });
  await origin.cleanup();
});

const sharedCheckouts = async () =>
  (await readdir(path.join(root, 'bases', '7')).catch(() => [] as string[]))
    .filter((name) => !name.endsWith('.index'))
    .sort();
const upperOf = (sessionId: string) => path.join(root, 'overlays', sessionId, 'upper');
const start = (sessionId: string, branch = `agent/${sessionId}`) =>
  workspaces.create({ sessionId, repo, branch, baseBranch: 'main' });

describe('overlay workspaces', () => {
  it('share one checkout of the commit, and keep each session’s changes in its own layer', async () => {
    const a = await start('s-alpha1');
    const b = await start('s-beta22');
    expect(await sharedCheckouts()).toEqual([a.baseSha]);
    expect(await mountsUnder(path.join(root, 'sessions'))).toEqual(
      expect.arrayContaining([a.path, b.path]),
    );

    await writeFile(path.join(a.path, 'README.md'), 'changed by alpha\n');
    await writeFile(path.join(a.path, 'notes.txt'), 'new\n');
    await unlink(path.join(a.path, 'src/file-1.txt'));

    // git sees an ordinary worktree: exactly the three changes, nothing else to rehash or report.
    const status = await git(a.path, ['status', '--porcelain']);
    expect(
      status
        .split('\n')
        .map((line) => line.trim())
        .sort(),
    ).toEqual(['?? notes.txt', 'D src/file-1.txt', 'M README.md']);
    expect(await git(b.path, ['status', '--porcelain'])).toBe('');
    expect(await readFile(path.join(b.path, 'README.md'), 'utf8')).not.toContain('alpha');
    expect(await exists(path.join(b.path, 'src/file-1.txt'))).toBe(true);
    // The shared checkout is untouched; alpha's layer holds its changes, beta's nothing but .git.
    const shared = path.join(root, 'bases', '7', a.baseSha);
    expect(await readFile(path.join(shared, 'README.md'), 'utf8')).not.toContain('alpha');
    expect(await exists(path.join(shared, 'src/file-1.txt'))).toBe(true);
    expect((await readdir(upperOf('s-alpha1'))).sort()).toEqual([
      '.git',
      'README.md',
      'notes.txt',
      'src',
    ]);
    expect(await readdir(upperOf('s-beta22'))).toEqual(['.git']);

    await writeFile(path.join(a.path, 'src/file-2.txt'), 'fixed\n');
    const sha = await workspaces.commitAll({ sessionId: 's-alpha1', message: 'Fix it' });
    await workspaces.push({ sessionId: 's-alpha1', repo, branch: 'agent/s-alpha1' });
    expect(await origin.sha('agent/s-alpha1')).toBe(sha);
    expect(await git(a.path, ['show', '--name-status', '--format=', 'HEAD'])).toBe(
      ['M\tREADME.md', 'A\tnotes.txt', 'D\tsrc/file-1.txt', 'M\tsrc/file-2.txt'].join('\n'),
    );
  });

  it('start a session on a newer commit from the existing checkout, writing only the difference', async () => {
    const a = await start('s-alpha1');
    const newer = await origin.commit({ 'NEWS.md': 'news\n', 'src/file-3.txt': 'updated\n' });

    const c = await start('s-gamma3');
    expect(c.headSha).toBe(newer);
    expect(await sharedCheckouts()).toEqual([a.baseSha]);
    expect(await git(c.path, ['rev-parse', 'HEAD'])).toBe(newer);
    expect(await git(c.path, ['status', '--porcelain'])).toBe('');
    expect(await readFile(path.join(c.path, 'src/file-3.txt'), 'utf8')).toBe('updated\n');
    expect((await readdir(upperOf('s-gamma3'))).sort()).toEqual(['.git', 'NEWS.md', 'src']);
    expect(await readdir(path.join(upperOf('s-gamma3'), 'src'))).toEqual(['file-3.txt']);
  });

  it('are mounted again after a reboot, with the session’s changes, and survive a prune meanwhile', async () => {
    const a = await start('s-alpha1');
    await writeFile(path.join(a.path, 'work.txt'), 'half done\n');
    // A reboot: the mount is gone, the layers and git's record of the worktree stay.
    await unmountUnder(a.path);
    expect(await exists(path.join(a.path, 'README.md'))).toBe(false);
    await start('s-beta22'); // runs `git worktree prune`, which must not take alpha for gone

    expect(await workspaces.ready('s-alpha1')).toBe(a.path);
    expect(await readFile(path.join(a.path, 'work.txt'), 'utf8')).toBe('half done\n');
    expect(await git(a.path, ['status', '--porcelain'])).toBe('?? work.txt');
    await unmountUnder(a.path);
    expect(await workspaces.headSha('s-alpha1')).toBe(a.headSha);
    await unmountUnder(a.path);
    expect(await start('s-alpha1')).toEqual(a);
    expect(await readFile(path.join(a.path, 'work.txt'), 'utf8')).toBe('half done\n');
  });

  it('make a half-made overlay again from the start when the spawn is retried', async () => {
    const a = await start('s-alpha1');
    await writeFile(path.join(a.path, 'stray.txt'), 'from the attempt that died\n');
    // The process died before the overlay was complete.
    await unlink(path.join(root, 'overlays', 's-alpha1', 'done'));
    await unmountUnder(a.path);

    const again = await start('s-alpha1');
    expect(again.headSha).toBe(a.headSha);
    expect(await git(again.path, ['status', '--porcelain'])).toBe('');
    expect(await exists(path.join(again.path, 'stray.txt'))).toBe(false);
    expect(await git(again.path, ['branch', '--show-current'])).toBe('agent/s-alpha1');
  });

  it('delete a shared checkout once no session stands on it, but keep the newest', async () => {
    const a = await start('s-alpha1');
    // Far enough from the first checkout that the next session gets one of its own.
    const many: Record<string, string> = {};
    for (let i = 0; i < 2_001; i++) many[`gen/${i}.txt`] = `${i}\n`;
    const far = await origin.commit(many);
    const b = await start('s-beta22');
    expect(b.headSha).toBe(far);
    expect(await sharedCheckouts()).toEqual([a.baseSha, far].sort());
    expect(await git(b.path, ['status', '--porcelain'])).toBe('');

    await workspaces.remove({ sessionId: 's-alpha1', repo, branch: 'agent/s-alpha1' });
    expect(await sharedCheckouts()).toEqual([far]);
    await workspaces.remove({ sessionId: 's-beta22', repo, branch: 'agent/s-beta22' });
    expect(await sharedCheckouts()).toEqual([far]);
    expect(await mountsUnder(root)).toEqual([]);
    expect(await readdir(path.join(root, 'overlays'))).toEqual([]);
    expect(await readdir(path.join(root, 'sessions'))).toEqual([]);
    const worktrees = await git(path.join(root, 'mirrors', '7.git'), ['worktree', 'list']);
    expect(worktrees.split('\n')).toHaveLength(1); // the mirror itself
  });

  it('refuse to start, saying what to fix, where the host cannot mount them', async () => {
    await workspaces.check(); // root here, with overlayfs: the probe mounts and unmounts
    expect(await mountsUnder(root)).toEqual([]);

    const odd = createWorkspaces({ root: `${root}/a:b`, log: silent, checkout: 'overlay' });
    await expect(odd.check()).rejects.toThrow(/cannot use a WORKSPACE_ROOT with ',' or ':'/);

    const path0 = process.env.PATH;
    process.env.PATH = path.join(root, 'no-tools-here');
    try {
      await expect(workspaces.check()).rejects.toThrow(
        /needs Linux overlayfs and permission to mount .*the mount command is not installed/,
      );
    } finally {
      process.env.PATH = path0;
    }
  });
});
