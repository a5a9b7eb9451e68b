import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProcessRuntime } from '../../../src/runner/runtimes/process-runtime.js';
import type { TurnSpec } from '../../../src/runner/runtimes/runtime.js';
import { createSandbox } from '../../../src/runner/sandbox/create-sandbox.js';
import { openTurnLimits, type TurnLimits } from '../../../src/runner/sandbox/turn-limits.js';

// A turn's cgroups, through the real wrapper, bubblewrap and the kernel: what an agent's fork
// bomb or runaway allocation meets, beside the same turn without them.
const log = pino({ level: 'silent' });
const runtime = createProcessRuntime({ log, graceMs: 500, pollMs: 50 });
let dir: string;
let limits: TurnLimits;

/** Tries to start 100 sleeps; prints how many started and how many the kernel refused. */
const FORK_BOMB = `const { spawn } = require('node:child_process');
let started = 0, refused = 0, pending = 100;
const done = () => { if (--pending === 0) { console.log('started ' + started + ' refused ' + refused); process.exit(0); } };
for (let i = 0; i < 100; i++) {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  child.on('spawn', () => { started++; done(); });
  child.on('error', () => { refused++; done(); });
}`;
/** Holds 300 MB, touched, then says so. */
const ALLOCATE = `const held = []; for (let i = 0; i < 30; i++) held.push(Buffer.alloc(10 * 1024 * 1024, 1)); console.log('held ' + held.length * 10 + ' MB');`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ao-turn-limits-'));
  limits = await openTurnLimits({ memoryBytes: 100 * 1024 * 1024, processes: 64 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runTurn(source: string, cgroups: readonly string[]) {
  const id = `s-${randomBytes(6).toString('hex')}`;
  const sandbox = createSandbox({ kind: 'bwrap', dir: join(dir, 'sandbox') });
  const spec: TurnSpec = {
    sessionId: id,
    turnId: 1,
    argv: sandbox.command(
      { workdir: dir, home: dir, readOnly: [] },
      [process.execPath, '-e', source],
      dir,
    ),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    cwd: dir,
    logFile: join(dir, id, 'turn-1.log'),
    exitFile: join(dir, id, 'turn-1.exit'),
    timeoutMs: 120_000,
    cgroups,
  };
  const result = await (await runtime.start(spec)).done;
  return { exitCode: result.exitCode, output: await readFile(spec.logFile, 'utf8') };
}

describe('per-turn limits', () => {
  it('are offered here, or say why not', () => {
    // This machine (and CI's) runs the tests as root on cgroup v1, where they are offered.
    expect({ available: limits.available, why: limits.why }).toEqual({ available: true, why: '' });
  });

  it('stop a fork bomb at the process limit, which the same turn without them passes', async () => {
    const bounded = await limits.open('t-fork-bomb');
    try {
      const inside = await runTurn(FORK_BOMB, bounded);
      const free = await runTurn(FORK_BOMB, []);
      const counts = (output: string) =>
        /started (\d+) refused (\d+)/.exec(output)!.slice(1).map(Number);
      const [started, refused] = counts(inside.output);
      expect(started).toBeLessThan(64);
      expect(refused).toBeGreaterThan(36);
      expect(counts(free.output)).toEqual([100, 0]);
    } finally {
      await limits.close('t-fork-bomb');
    }
  }, 180_000);

  it('end a turn that holds more than its memory, which the same turn without them holds', async () => {
    const bounded = await limits.open('t-memory');
    try {
      const inside = await runTurn(ALLOCATE, bounded);
      expect(inside.output).not.toContain('held 300 MB');
      expect(inside.exitCode).not.toBe(0);
      const free = await runTurn(ALLOCATE, []);
      expect(free).toMatchObject({ exitCode: 0 });
      expect(free.output).toContain('held 300 MB');
    } finally {
      await limits.close('t-memory');
    }
  }, 180_000);

  it('are swept when their turn ended unseen, but kept while a process holds them or they are new', async () => {
    const [held] = await limits.open('t-sweep-held');
    await limits.open('t-sweep-left');
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await writeFile(held!, String(sleeper.pid));
      // Made just now: even empty, a cgroup a turn is about to join is left alone.
      await limits.sweep();
      expect(existsSync(path.dirname(held!))).toBe(true);
      expect(existsSync(path.join(path.dirname(path.dirname(held!)), 't-sweep-left'))).toBe(true);

      await limits.sweep(0);
      expect(existsSync(path.join(path.dirname(path.dirname(held!)), 't-sweep-left'))).toBe(false);
      expect(existsSync(path.dirname(held!))).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((resolve) => sleeper.once('exit', resolve));
      await limits.close('t-sweep-held');
      await limits.close('t-sweep-left');
    }
  });
});
