import { describe, expect, it } from 'vitest';
import {
  type Block,
  fenceFor,
  fitBlock,
  keepHead,
  keepTail,
  share,
} from '../../src/github/truncate.js';

const lines = (n: number, width = 10) =>
  Array.from({ length: n }, (_, i) => `${i}`.padEnd(width, '.')).join('\n');

describe('fitBlock', () => {
  it('leaves text that fits untouched', () => {
    const block: Block = {
      join: '\n\n',
      blocks: [{ fixed: '# A' }, { head: 'body' }, { tail: 'log', cutBefore: 2 }],
    };
    expect(fitBlock(block, 100)).toBe('# A\n\nbody\n\n[… 2 lines truncated]\nlog');
  });

  it('gives small sections all they need and shares the rest among the large ones', () => {
    expect(share([10, 1_000, 5_000], 3_000)).toEqual([10, 1_000, 1_990]);
    expect(share([4_000, 4_000], 3_000)).toEqual([1_500, 1_500]);
    const text = fitBlock(
      { join: '\n', blocks: [{ head: 'small' }, { head: lines(500) }, { tail: lines(500) }] },
      2_000,
    );
    expect(text.startsWith('small\n0.........\n')).toBe(true);
    expect(text.endsWith('\n499.......')).toBe(true);
    expect(text.length).toBeLessThanOrEqual(2_000);
    expect(text.length).toBeGreaterThan(1_950);
  });

  it('never exceeds the limit, whatever the blocks and the limit', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const text = () => Array.from({ length: random(40) }, () => 'x'.repeat(random(300))).join('\n');
    const block = (depth: number): Block => {
      const kind = random(depth > 2 ? 3 : 4);
      if (kind === 0) return { fixed: 'y'.repeat(random(30)) };
      if (kind === 1) return { head: text() };
      if (kind === 2) return { tail: text(), cutBefore: random(3) };
      return {
        join: '\n\n',
        blocks: Array.from({ length: 1 + random(5) }, () => block(depth + 1)),
      };
    };
    for (let i = 0; i < 500; i++) {
      const max = random(4_000);
      expect(fitBlock(block(0), max).length).toBeLessThanOrEqual(max);
    }
  });
});

describe('keepHead and keepTail', () => {
  it('keep whole lines, then as much of the next as fits, and count what they cut', () => {
    const head = keepHead(lines(100, 60), 320);
    expect(head.length).toBe(320);
    expect(head).toMatch(/^0\.+\n1\.+\n2\.+\n3\.+\n4\.{10,}…\n\[… 96 lines truncated\]$/);
    const tail = keepTail(lines(100, 60), 320);
    expect(tail.length).toBe(320);
    expect(tail).toMatch(/^\[… 96 lines truncated\]\n….{10,}\n96\.+\n97\.+\n98\.+\n99\.+$/);
  });

  it('cut a single long line by characters and say so', () => {
    expect(keepHead('a'.repeat(1_000), 50)).toBe(`${'a'.repeat(38)} [truncated]`);
    expect(keepTail('b'.repeat(1_000), 50)).toBe(`[truncated] ${'b'.repeat(38)}`);
    expect(keepHead('a'.repeat(1_000), 11)).toBe('[truncated]');
    expect(keepHead('a'.repeat(1_000), 5)).toBe('');
  });

  it('never split a surrogate pair', () => {
    const cut = keepHead('😀'.repeat(100), 50);
    expect(cut).toMatch(/^(😀)+ \[truncated\]$/u);
  });
});

describe('fenceFor', () => {
  it('is longer than any run of backticks in the text', () => {
    expect(fenceFor('plain')).toBe('```');
    expect(fenceFor('a ```js block``` and ````')).toBe('`````');
  });
});
