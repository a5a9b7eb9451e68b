import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { worktreeFingerprint } from '../../src/runner/worktree-fingerprint.js';

// A real worktree in a temporary folder. Every file and folder is dated a fixed time in the past,
// so a change made by a test is later than anything there, whatever the clock's resolution.

const PAST = new Date('2020-01-01T00:00:00.000Z');
const LATER = new Date('2020-01-01T00:01:00.000Z');

let root: string;
const at = (...parts: string[]) => path.join(root, ...parts);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'worktree-fingerprint-'));
  const files: Record<string, string> = {
    'README.md': '# widgets\n',
    'src/index.ts': 'export const answer = 42;\n',
    'src/lib/util.ts': 'export const id = (x: unknown) => x;\n',
    '.git/HEAD': 'ref: refs/heads/main\n',
    'node_modules/left-pad/index.js': 'module.exports = () => {};\n',
    'src/node_modules/local/index.js': 'module.exports = 1;\n',
  };
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(at(name)), { recursive: true });
    fs.writeFileSync(at(name), content);
  }
  // Files first, then folders deepest first: dating a file does not touch its folder's time.
  const entries = fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).map((p) => at(p));
  const byDepth = (a: string, b: string) => b.split(path.sep).length - a.split(path.sep).length;
  for (const entry of [...entries, root].sort(byDepth)) fs.utimesSync(entry, PAST, PAST);
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe("worktreeFingerprint: a summary of the worktree's files", () => {
  it('is the same when nothing changes', async () => {
    const before = await worktreeFingerprint(root);
    expect(await worktreeFingerprint(root)).toBe(before);
    // It summarises the files, not nothing: an empty folder reads differently.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'worktree-fingerprint-empty-'));
    try {
      expect(await worktreeFingerprint(empty)).not.toBe(before);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it.each<[string, () => void]>([
    ['a new file is written', () => fs.writeFileSync(at('NOTES.md'), 'todo\n')],
    [
      "a file's content changes (same size, a later time)",
      () => {
        fs.writeFileSync(at('src/index.ts'), 'export const answer = 43;\n');
        fs.utimesSync(at('src/index.ts'), LATER, LATER);
      },
    ],
    ['a file is deleted', () => fs.rmSync(at('README.md'))],
    [
      'a file is created in a subfolder',
      () => fs.writeFileSync(at('src/lib/more.ts'), 'export {};\n'),
    ],
    [
      'a new subfolder with a file is made',
      () => {
        fs.mkdirSync(at('docs/guide'), { recursive: true });
        fs.writeFileSync(at('docs/guide/intro.md'), 'hello\n');
      },
    ],
  ])('differs after %s', async (_, change) => {
    const before = await worktreeFingerprint(root);
    change();
    expect(await worktreeFingerprint(root)).not.toBe(before);
  });

  it.each<[string, () => void]>([
    ['a write inside .git/', () => fs.writeFileSync(at('.git/index'), 'x'.repeat(4_096))],
    [
      'a changed file inside .git/',
      () => fs.writeFileSync(at('.git/HEAD'), 'ref: refs/heads/agent/1-x\n'),
    ],
    [
      'an install into node_modules/',
      () => {
        fs.mkdirSync(at('node_modules/lodash'), { recursive: true });
        fs.writeFileSync(at('node_modules/lodash/index.js'), 'module.exports = {};\n');
      },
    ],
    [
      'a write inside a nested node_modules/',
      () => fs.writeFileSync(at('src/node_modules/local/extra.js'), 'module.exports = 2;\n'),
    ],
  ])('is unchanged by %s', async (_, change) => {
    const before = await worktreeFingerprint(root);
    change();
    expect(await worktreeFingerprint(root)).toBe(before);
  });

  it('reads a missing folder as an empty one, without throwing', async () => {
    const populated = await worktreeFingerprint(root);
    fs.rmSync(root, { recursive: true, force: true });
    const missing = await worktreeFingerprint(at('gone'));
    expect(typeof missing).toBe('string');
    fs.mkdirSync(root);
    expect(missing).toBe(await worktreeFingerprint(root));
    expect(missing).not.toBe(populated);
  });
});
