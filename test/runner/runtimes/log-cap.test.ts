import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LOG_HEAD_BYTES,
  LOG_TAIL_BYTES,
  logActivity,
} from '../../../src/runner/runtimes/log-cap.js';
import { createProcessRuntime } from '../../../src/runner/runtimes/process-runtime.js';
import type { Runtime, TurnSpec } from '../../../src/runner/runtimes/runtime.js';
import { createTmuxRuntime } from '../../../src/runner/runtimes/tmux-runtime.js';
import { until } from '../../helpers/until.js';

// The turn log's bound on disk, through the real wrapper and real agent processes: the head as it
// comes, the tail at the end, a line saying what was cut in between.
const SOCKET = `ao-log-cap-${process.pid}`;
const log = pino({ level: 'silent' });
const MARKER =
  /\n\[agent-orchestrator: (\d+) bytes of output cut here; the log keeps the first (\d+) and the last (\d+)\]\n/;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ao-log-cap-'));
});
afterAll(async () => {
  try {
    execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server was started
  }
  await rm(dir, { recursive: true, force: true });
});

/** A turn running a node program (the agent) with the given source. */
function nodeTurn(source: string): TurnSpec {
  const id = `s-${randomBytes(6).toString('hex')}`;
  return {
    sessionId: id,
    turnId: 1,
    argv: [process.execPath, '-e', source],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    cwd: dir,
    logFile: join(dir, id, 'turn-1.log'),
    exitFile: join(dir, id, 'turn-1.exit'),
    timeoutMs: 120_000,
  };
}

/** A line of `bytes` x's with no newline, then a newline and the agent's last words. */
const longLineThenResult = (bytes: number) =>
  `process.stdout.write(Buffer.alloc(${bytes}, "x")); process.stdout.write("\\nRESULT done\\n");`;

async function runToEnd(runtime: Runtime, spec: TurnSpec) {
  const turn = await runtime.start(spec);
  return turn.done;
}

async function expectCapped(spec: TurnSpec, lineBytes: number) {
  const text = await readFile(spec.logFile, 'latin1');
  const written = lineBytes + '\nRESULT done\n'.length;
  const marker = MARKER.exec(text);
  expect(marker, 'the line saying what was cut').not.toBeNull();
  const [, cut, head, tail] = marker!.map(Number);
  expect([head, tail]).toEqual([LOG_HEAD_BYTES, LOG_TAIL_BYTES]);
  expect(head! + cut! + tail!).toBe(written);
  expect(text.length).toBe(LOG_HEAD_BYTES + marker![0].length + LOG_TAIL_BYTES);
  expect(text.slice(0, LOG_HEAD_BYTES)).toBe('x'.repeat(LOG_HEAD_BYTES));
  expect(text.endsWith(`${'x'.repeat(1000)}\nRESULT done\n`)).toBe(true);
}

describe.each([
  ['process', () => createProcessRuntime({ log, graceMs: 2_000, pollMs: 50 })],
  ['tmux', () => createTmuxRuntime({ log, graceMs: 2_000, pollMs: 50, socketName: SOCKET })],
])('the turn log in the %s runtime', (_name, createRuntime) => {
  it('keeps the first 1 MB and the last 4 MB of a long output, and says how much it cut', async () => {
    const spec = nodeTurn(longLineThenResult(12 * 1024 * 1024));
    expect(await runToEnd(createRuntime(), spec)).toMatchObject({ exitCode: 0 });
    await expectCapped(spec, 12 * 1024 * 1024);
  }, 120_000);

  it('keeps an output under the bound byte for byte', async () => {
    const spec = nodeTurn(
      'for (let i = 1; i <= 400000; i++) process.stdout.write(i + "\\n"); console.error("to stderr"); process.exit(3)',
    );
    expect(await runToEnd(createRuntime(), spec)).toMatchObject({ exitCode: 3 });
    const lines = Array.from({ length: 400_000 }, (_, i) => `${i + 1}\n`).join('');
    expect(await readFile(spec.logFile, 'utf8')).toBe(`${lines}to stderr\n`);
  }, 120_000);
});

describe('the turn log past its head', () => {
  const runtime = createProcessRuntime({ log, graceMs: 2_000, pollMs: 50 });

  it('bounds a 64 MB line without a newline to about 5 MB, the last words kept', async () => {
    const spec = nodeTurn(longLineThenResult(64 * 1024 * 1024));
    expect(await runToEnd(runtime, spec)).toMatchObject({ exitCode: 0 });
    await expectCapped(spec, 64 * 1024 * 1024);
  }, 120_000);

  it('still shows activity while the output goes past the head, though the log no longer grows', async () => {
    const spec = nodeTurn(
      `process.stdout.write(Buffer.alloc(${LOG_HEAD_BYTES + 10}, "y"));
       setInterval(() => process.stdout.write("still working\\n"), 100);
       setTimeout(() => process.exit(0), 60_000);`,
    );
    const turn = await runtime.start(spec);
    try {
      await until('the log head to fill', async () => {
        const info = await stat(spec.logFile).catch(() => undefined);
        return info?.size === LOG_HEAD_BYTES;
      });
      // Marks taken over time differ while the size stays at the head's.
      const marks = new Set<string>();
      await until('the activity mark to change twice', async () => {
        marks.add(await logActivity(spec.logFile));
        return marks.size >= 3;
      });
      expect((await stat(spec.logFile)).size).toBe(LOG_HEAD_BYTES);
    } finally {
      await turn.stop({ graceMs: 2_000 });
    }
    // Stopped: what came past the head is still written (under 4 MB: nothing cut).
    const handle = await open(spec.logFile, 'r');
    const text = (await handle.readFile('latin1')).slice(LOG_HEAD_BYTES);
    await handle.close();
    expect(text.startsWith(`${'y'.repeat(10)}still working\n`)).toBe(true);
    expect(text.endsWith('still working\n')).toBe(true);
  }, 120_000);
});
