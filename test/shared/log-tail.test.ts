import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '../../src/shared/line-splitter.js';
import { tailLines } from '../../src/shared/log-tail.js';

let dir: string;
let count = 0;
const nextFile = () => join(dir, `log-${++count}.log`);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ao-log-tail-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Tails `file`, collecting lines with the offset after each. */
function follow(
  file: string,
  options: { fromOffset?: number; flushPartial?: boolean; pollMs?: number } = {},
) {
  const lines: string[] = [];
  const offsets: number[] = [];
  const controller = new AbortController();
  const tail = tailLines(
    file,
    (line, offset) => {
      lines.push(line);
      offsets.push(offset);
    },
    // A poll far slower than the tests: what they see arrives through fs.watch.
    { signal: controller.signal, pollMs: 60_000, ...options },
  );
  return {
    lines,
    offsets,
    tail,
    stop: () => {
      controller.abort();
      return tail;
    },
    async until(count: number, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${lines.length} of ${count} lines came`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

const pause = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('tailLines', () => {
  it('delivers lines written in pieces whole and in order, once the file appears', async () => {
    const file = nextFile();
    const tail = follow(file);
    await pause();
    await writeFile(file, 'hel');
    await pause();
    await appendFile(file, 'lo\nwor');
    await tail.until(1);
    expect(tail.lines).toEqual(['hello']);
    await pause();
    await appendFile(file, 'ld\n{"type":"x"}\n');
    await tail.until(3);
    expect(await tail.stop()).toBe(25);
    expect(tail.lines).toEqual(['hello', 'world', '{"type":"x"}']);
    expect(tail.offsets).toEqual([6, 12, 25]);
  });

  it('resumes from an offset it returned', async () => {
    const file = nextFile();
    await writeFile(file, 'one\ntwo\n');
    const first = follow(file);
    await first.until(2);
    const offset = await first.stop();
    expect(offset).toBe(8);

    await appendFile(file, 'three\nfour\n');
    const second = follow(file, { fromOffset: offset });
    await second.until(2);
    expect(await second.stop()).toBe(19);
    expect(second.lines).toEqual(['three', 'four']);
  });

  it('reads what was written before it was stopped, and leaves a partial line for later', async () => {
    const file = nextFile();
    const tail = follow(file);
    await pause();
    await writeFile(file, 'done\nhalf a li');
    expect(await tail.stop()).toBe(5);
    expect(tail.lines).toEqual(['done']);

    await appendFile(file, 'ne\n');
    const resumed = follow(file, { fromOffset: 5 });
    expect(await resumed.stop()).toBe(17);
    expect(resumed.lines).toEqual(['half a line']);
  });

  it('delivers a last line without a newline when told the writer is done', async () => {
    const file = nextFile();
    await writeFile(file, 'a\nlast words');
    const tail = follow(file, { flushPartial: true });
    expect(await tail.stop()).toBe(12);
    expect(tail.lines).toEqual(['a', 'last words']);
    expect(tail.offsets).toEqual([2, 12]);
  });

  it('keeps characters whole when a write splits their bytes', async () => {
    const file = nextFile();
    const bytes = Buffer.from('café ✓\n');
    const tail = follow(file);
    await writeFile(file, bytes.subarray(0, 4));
    await pause();
    await appendFile(file, bytes.subarray(4, 8));
    await pause();
    await appendFile(file, bytes.subarray(8));
    await tail.until(1);
    expect(await tail.stop()).toBe(bytes.length);
    expect(tail.lines).toEqual(['café ✓']);
  });

  it('follows a large file across read chunks', async () => {
    const file = nextFile();
    const expected = Array.from({ length: 20_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const text = `${expected.join('\n')}\n`;
    const tail = follow(file);
    await writeFile(file, text.slice(0, 300_000));
    await appendFile(file, text.slice(300_000));
    await tail.until(expected.length);
    expect(await tail.stop()).toBe(Buffer.byteLength(text));
    expect(tail.lines).toEqual(expected);
  });

  it('finds a file whose folder did not exist yet by polling', async () => {
    const file = join(dir, 'later', 'turn.log');
    const tail = follow(file, { pollMs: 50 });
    await pause();
    await mkdir(join(dir, 'later'));
    await writeFile(file, 'found\n');
    await tail.until(1);
    expect(await tail.stop()).toBe(6);
    expect(tail.lines).toEqual(['found']);
  });

  it('hands out a 64 MB line without a newline cut to 64 KB, saying how much was cut', async () => {
    const file = nextFile();
    const size = 64 * 1024 * 1024;
    await writeFile(file, Buffer.alloc(size, 'x'));
    // Before the fix the pending line grew by a copy per 64 KB read: minutes for this file.
    const tail = follow(file, { flushPartial: true });
    expect(await tail.stop()).toBe(size);
    expect(tail.lines).toEqual([
      `${'x'.repeat(MAX_LINE_BYTES)}… [${size - MAX_LINE_BYTES} bytes cut]`,
    ]);
    expect(tail.offsets).toEqual([size]);
  }, 120_000);

  it('cuts a long line and goes on with the lines after it, offsets exact', async () => {
    const file = nextFile();
    const long = 'y'.repeat(3 * MAX_LINE_BYTES + 5);
    const tail = follow(file);
    await writeFile(file, `first\n${long.slice(0, 100_000)}`);
    await pause();
    await appendFile(file, `${long.slice(100_000)}\nafter\n`);
    await tail.until(3);
    const end = 6 + long.length + 1 + 6;
    expect(await tail.stop()).toBe(end);
    expect(tail.lines).toEqual([
      'first',
      `${'y'.repeat(MAX_LINE_BYTES)}… [${2 * MAX_LINE_BYTES + 5} bytes cut]`,
      'after',
    ]);
    expect(tail.offsets).toEqual([6, 6 + long.length + 1, end]);
  });

  it('resumes after a partial long line from the offset before it', async () => {
    const file = nextFile();
    await writeFile(file, `ok\n${'z'.repeat(200_000)}`);
    const first = follow(file);
    expect(await first.stop()).toBe(3);
    await appendFile(file, '\n');
    const second = follow(file, { fromOffset: 3 });
    expect(await second.stop()).toBe(200_004);
    expect(second.lines).toEqual([
      `${'z'.repeat(MAX_LINE_BYTES)}… [${200_000 - MAX_LINE_BYTES} bytes cut]`,
    ]);
  });
});
