import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/runner/sandbox/create-sandbox.js';
import {
  createWorkspaces,
  type WorkspaceCheckout,
  type WorkspaceRepo,
  type Workspaces,
} from '../../src/runner/workspace/workspaces.js';
import { createOrigin, git, type Origin } from '../helpers/git.js';

const run = promisify(execFile);

/**
 * Own checkouts on overlays, the default with the sandbox: the session's folder is mounted only
 * inside its sandboxes (no root, no mount on the host), the repository's files are shared, and
 * the session's layer holds its `.git` and what it changed.
 */
describe('own checkouts on overlays, mounted in the sandbox', () => {
  let root: string;
  let origin: Origin;
  let repo: WorkspaceRepo;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'own-overlay-'));
    origin = await createOrigin({ files: 3 });
    repo = { id: 5, fullName: 'octo/widgets', cloneUrl: origin.url };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await origin.cleanup();
  });

  function open(workspaceRoot: string, checkout: WorkspaceCheckout = 'auto') {
    const sandbox = createSandbox({ kind: 'bwrap', dir: path.join(workspaceRoot, 'sandbox') });
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const workspaces = createWorkspaces({ root: workspaceRoot, log, sandbox, checkout });
    return { sandbox, workspaces, warnings };
  }

  /** Runs a shell script in the session's sandbox, as a turn would; its stdout. */
  async function inSandbox(
    opened: ReturnType<typeof open>,
    sessionId: string,
    script: string,
  ): Promise<string> {
    const workdir = opened.workspaces.pathFor(sessionId);
    const home = path.join(root, 'home', sessionId);
    await mkdir(home, { recursive: true });
    const argv = opened.sandbox.command(
      {
        workdir,
        layers: await opened.workspaces.layersFor(sessionId, repo.id),
        home,
        readOnly: opened.workspaces.readOnlyFor(repo.id),
      },
      ['/bin/bash', '-c', script],
      workdir,
    );
    const { stdout } = await run(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    return stdout;
  }

  const create = (workspaces: Workspaces, sessionId: string) =>
    workspaces.create({ sessionId, repo, branch: `agent/${sessionId}`, baseBranch: 'main' });

  it('shows the files only inside the sandbox, keeps only the changes, and commits a deletion', async () => {
    const opened = open(root);
    await opened.workspaces.check();
    const made = await create(opened.workspaces, 's-000000000001');

    // Outside the sandbox the folder is an empty mount point: nothing is mounted on the host.
    expect(await readdir(made.path)).toEqual([]);
    const mounts = await run('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' });
    expect(mounts.stdout).not.toContain(root);
    // Inside, it is a clean checkout of the branch: the index matches the shared files.
    expect(await inSandbox(opened, 's-000000000001', 'git status --porcelain; ls')).toBe(
      'README.md\nsrc\n',
    );

    await inSandbox(
      opened,
      's-000000000001',
      'git rm -q src/file-1.txt && echo more >>src/file-2.txt && echo new >added.md',
    );
    const sha = await opened.workspaces.commitAll({
      sessionId: 's-000000000001',
      message: 'Edit through the overlay',
    });
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    const mirror = path.join(root, 'mirrors', `${repo.id}.git`);
    const files = await git(mirror, ['ls-tree', '-r', '--name-only', sha!]);
    expect(files.split('\n')).toEqual([
      'README.md',
      'added.md',
      'src/file-2.txt',
      'src/file-3.txt',
    ]);
    expect(await git(mirror, ['show', `${sha}:src/file-2.txt`])).toBe('file 2\nmore');

    // The session's layer holds its repository and its changes, not the repository's files.
    const upper = path.join(root, 'overlays', 's-000000000001', 'upper');
    expect((await readdir(upper)).sort()).toEqual(['.git', 'added.md', 'src']);
    expect((await readdir(path.join(upper, 'src'))).sort()).toEqual(['file-1.txt', 'file-2.txt']);
    expect(existsSync(path.join(upper, 'README.md'))).toBe(false);

    await opened.workspaces.remove({
      sessionId: 's-000000000001',
      repo,
      branch: 'agent/s-000000000001',
    });
    expect(existsSync(path.join(root, 'overlays', 's-000000000001'))).toBe(false);
    expect(existsSync(made.path)).toBe(false);
  });

  it('starts a session on a newer commit from the shared checkout, writing only the difference', async () => {
    const opened = open(root);
    await create(opened.workspaces, 's-000000000002');
    await origin.commit({ 'src/file-4.txt': 'file 4\n' }, { message: 'Add a file' });
    await create(opened.workspaces, 's-000000000003');

    // One shared checkout serves both commits.
    const bases = (await readdir(path.join(root, 'bases', String(repo.id)))).filter(
      (name) => !name.includes('.'),
    );
    expect(bases).toHaveLength(1);
    expect(
      await inSandbox(opened, 's-000000000003', 'git status --porcelain; cat src/file-4.txt'),
    ).toBe('file 4\n');
    expect(await readdir(path.join(root, 'overlays', 's-000000000003', 'upper', 'src'))).toEqual([
      'file-4.txt',
    ]);
    // The first session still sees its own commit, without the new file.
    expect(await inSandbox(opened, 's-000000000002', 'git status --porcelain; ls src')).toBe(
      'file-1.txt\nfile-2.txt\nfile-3.txt\n',
    );
  });

  it('refuses WORKSPACE_CHECKOUT=overlay where it cannot mount, and auto falls back to full checkouts', async () => {
    // overlayfs options cannot carry a ':' in a path, so this root cannot hold overlays.
    const odd = path.join(root, 'odd:root');
    await mkdir(odd);
    await expect(open(odd, 'overlay').workspaces.check()).rejects.toThrow(
      /WORKSPACE_CHECKOUT=worktree/,
    );

    const fallback = open(odd, 'auto');
    await fallback.workspaces.check();
    expect(fallback.warnings.join('')).toContain('overlay checkouts are not available here');
    const made = await create(fallback.workspaces, 's-000000000004');
    expect((await readdir(made.path)).sort()).toEqual(['.git', 'README.md', 'src']);
    expect(await fallback.workspaces.layersFor('s-000000000004', repo.id)).toBeUndefined();
  });
});
