import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/runner/find-binary.js';
import {
  createProcessRuntime,
  type RuntimeOptions,
} from '../../src/runner/runtimes/process-runtime.js';
import type {
  RunningTurn,
  Runtime,
  TurnResult,
  TurnSpec,
} from '../../src/runner/runtimes/runtime.js';
import { createTmuxRuntime } from '../../src/runner/runtimes/tmux-runtime.js';

const AGENT = fileURLToPath(new URL('../fixtures/turn-agent.sh', import.meta.url));
const BASH = findExecutable('bash');
const SOCKET = `ao-test-${process.pid}`;
const FRESH_SOCKET = `ao-test-fresh-${process.pid}`;
const TMUX_SESSION = 'agent-orchestrator';
const log = pino({ level: 'silent' });
const options: RuntimeOptions = { log, graceMs: 500, pollMs: 50 };

/** Environment variables a shell adds on its own. */
const SHELL_VARIABLES = ['PWD', 'OLDPWD', 'SHLVL', '_'];

let dir: string;

function tmux(socket: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function tmuxOrNull(socket: string, ...args: string[]): string | null {
  try {
    return tmux(socket, ...args);
  } catch {
    return null;
  }
}

function turnSpec(args: string[], overrides: Partial<TurnSpec> = {}): TurnSpec {
  const sessionId = `s-${randomBytes(6).toString('hex')}`;
  return {
    sessionId,
    turnId: 1,
    argv: [BASH, AGENT, ...args],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TURN_MARK: sessionId },
    cwd: dir,
    logFile: join(dir, sessionId, 'turn-1.log'),
    exitFile: join(dir, sessionId, 'turn-1.exit'),
    timeoutMs: 20_000,
    ...overrides,
  };
}

async function readLog(spec: TurnSpec): Promise<string> {
  return readFile(spec.logFile, 'utf8').catch(() => '');
}

async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const waitForLog = (spec: TurnSpec, text: string) =>
  waitFor(`"${text}" in the log`, async () => (await readLog(spec)).includes(text));

/** Processes that are running (not zombies), by pid, with their group. */
function runningProcesses(): Map<number, number> {
  const table = execFileSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  const running = new Map<number, number>();
  for (const row of table.trim().split('\n')) {
    const [pid, pgid, stat] = row.trim().split(/\s+/);
    if (!stat?.startsWith('Z')) running.set(Number(pid), Number(pgid));
  }
  return running;
}

function groupMembers(pgid: number): number[] {
  return [...runningProcesses()].filter(([, group]) => group === pgid).map(([pid]) => pid);
}

function isTurn(value: RunningTurn | TurnResult): value is RunningTurn {
  return 'done' in value;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ao-runtimes-'));
  // The tests must show that no turn sees the app's secrets, in either runtime.
  process.env.WEBHOOK_SECRET = 'leak-me';
  // A tmux server started by a person with a full environment, secret included: the turns'
  // windows must not inherit its global environment.
  execFileSync('tmux', ['-L', SOCKET, 'new-session', '-d', '-s', 'person', 'sleep 600'], {
    env: { ...process.env },
  });
  // A person's configuration may keep finished windows open; the runtime still closes them.
  tmux(SOCKET, 'set-option', '-g', 'remain-on-exit', 'on');
});

afterAll(async () => {
  delete process.env.WEBHOOK_SECRET;
  tmuxOrNull(SOCKET, 'kill-server');
  tmuxOrNull(FRESH_SOCKET, 'kill-server');
  await rm(dir, { recursive: true, force: true });
});

const RUNTIMES: [string, (extra?: Partial<RuntimeOptions>) => Runtime][] = [
  ['process', (extra) => createProcessRuntime({ ...options, ...extra })],
  ['tmux', (extra) => createTmuxRuntime({ ...options, ...extra, socketName: SOCKET })],
];

describe.each(RUNTIMES)('the %s runtime', (name, createRuntime) => {
  it('records the output in the log and a zero exit status', async () => {
    const spec = turnSpec(['lines', '3', '0.05', '0']);
    const turn = await createRuntime().start(spec);
    expect(turn.handle).toMatchObject({ runtime: name, pid: expect.any(Number) });
    expect(await turn.done).toEqual({ exitCode: 0, timedOut: false, stopped: false });
    expect(await readLog(spec)).toBe('line 1\nline 2\nline 3\nto stderr\n');
    expect(await readFile(spec.exitFile, 'utf8')).toBe('0\n');
  });

  it('records a non-zero exit status', async () => {
    const spec = turnSpec(['lines', '1', '0', '3']);
    const turn = await createRuntime().start(spec);
    expect(await turn.done).toEqual({ exitCode: 3, timedOut: false, stopped: false });
    expect(await readLog(spec)).toBe('line 1\nto stderr\n');
  });

  it('feeds the stdin file to the agent', async () => {
    const stdinFile = join(dir, `stdin-${name}.txt`);
    await writeFile(stdinFile, 'hello\nworld\n');
    const spec = turnSpec(['stdin'], { stdinFile });
    const turn = await createRuntime().start(spec);
    expect((await turn.done).exitCode).toBe(0);
    expect(await readLog(spec)).toBe('stdin: hello\nstdin: world\nstdin done\n');
  });

  it('gives the agent an empty stdin without a stdin file', async () => {
    const spec = turnSpec(['stdin']);
    const turn = await createRuntime().start(spec);
    expect((await turn.done).exitCode).toBe(0);
    expect(await readLog(spec)).toBe('stdin done\n');
  });

  it('passes the argv as it is, however long, through no shell', async () => {
    const long = 'x'.repeat(30_000);
    const tricky = '$(touch pwned) `touch pwned` ; "\' \\';
    const spec = turnSpec(['args', long, tricky, '', 'two words']);
    const turn = await createRuntime().start(spec);
    expect((await turn.done).exitCode).toBe(0);
    expect(await readLog(spec)).toBe(`arg 30000\narg ${tricky.length}\narg 0\narg 9\n`);
    await expect(readFile(join(dir, 'pwned'))).rejects.toThrow();
  });

  it('gives the agent exactly the environment of the turn, without the app secrets', async () => {
    const spec = turnSpec(['env']);
    const turn = await createRuntime().start(spec);
    expect((await turn.done).exitCode).toBe(0);
    const output = await readLog(spec);
    const variables = Object.fromEntries(
      output
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(output).not.toContain('leak-me');
    expect(variables).toMatchObject(spec.env);
    const extra = Object.keys(variables).filter((key) => !(key in spec.env));
    expect(extra.filter((key) => !SHELL_VARIABLES.includes(key))).toEqual([]);
  });

  it('stops the whole group: a grandchild and a child that ignores SIGTERM', async () => {
    const pidFile = join(dir, `family-${name}`);
    const spec = turnSpec(['family', pidFile]);
    const runtime = createRuntime();
    const turn = await runtime.start(spec);
    await waitForLog(spec, 'ready');
    const pids = (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    expect(pids).toHaveLength(4);
    const before = runningProcesses();
    for (const pid of pids) expect(before.get(pid)).toBe(turn.handle.pid);
    expect(await runtime.isAlive(turn.handle)).toBe(true);

    await turn.stop({ graceMs: 300 });
    // The agent itself died of the TERM (143), unless the KILL that the child ignoring TERM
    // needed took the wrapper before it could record that (tee waits for the child's output).
    const result = await turn.done;
    expect(result).toMatchObject({ timedOut: false, stopped: true });
    expect([143, null]).toContain(result.exitCode);
    const after = runningProcesses();
    expect(pids.filter((pid) => after.has(pid))).toEqual([]);
    expect(groupMembers(turn.handle.pid)).toEqual([]);
    expect(await runtime.isAlive(turn.handle)).toBe(false);
  });

  it('lets an agent that handles SIGTERM finish and records its status', async () => {
    const spec = turnSpec(['graceful']);
    const turn = await createRuntime().start(spec);
    await waitForLog(spec, 'ready');
    await turn.stop();
    expect(await turn.done).toEqual({ exitCode: 7, timedOut: false, stopped: true });
    expect(await readLog(spec)).toContain('got TERM');
  });

  it('records the status when the wrapper alone gets SIGTERM', async () => {
    const spec = turnSpec(['graceful']);
    const turn = await createRuntime().start(spec);
    await waitForLog(spec, 'ready');
    process.kill(turn.handle.pid, 'SIGTERM');
    expect(await turn.done).toEqual({ exitCode: 7, timedOut: false, stopped: false });
    expect(await readFile(spec.exitFile, 'utf8')).toBe('7\n');
  });

  it('stops a hanging agent at its time limit and reports it timed out', async () => {
    const spec = turnSpec(['hang'], { timeoutMs: 400 });
    const started = Date.now();
    const turn = await createRuntime().start(spec);
    const result = await turn.done;
    expect(result).toEqual({ exitCode: 128 + 15, timedOut: true, stopped: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(groupMembers(turn.handle.pid)).toEqual([]);
  });

  describe('adopting a turn after a restart', () => {
    it('watches a turn still running until it ends', async () => {
      const spec = turnSpec(['lines', '3', '0.3', '5']);
      const turn = await createRuntime().start(spec);
      await waitForLog(spec, 'line 1');
      const adopted = await createRuntime().adopt(spec, turn.handle);
      if (!isTurn(adopted))
        throw new Error(`expected a running turn, got ${JSON.stringify(adopted)}`);
      expect(adopted.handle).toEqual(turn.handle);
      expect(await adopted.done).toEqual({ exitCode: 5, timedOut: false, stopped: false });
      expect(await readLog(spec)).toContain('line 3');
    });

    it('counts the time limit from when the turn started', async () => {
      const spec = turnSpec(['hang'], { timeoutMs: 60_000 });
      const turn = await createRuntime().start(spec);
      await waitForLog(spec, 'ready');
      const adopted = await createRuntime().adopt(
        { ...spec, timeoutMs: 300 },
        { ...turn.handle, startedAt: turn.handle.startedAt - 1_000 },
      );
      if (!isTurn(adopted)) throw new Error('expected a running turn');
      expect(await adopted.done).toMatchObject({ timedOut: true, stopped: false });
      expect(groupMembers(turn.handle.pid)).toEqual([]);
    });

    it('returns the result of a turn that ended, from its exit file', async () => {
      const spec = turnSpec(['lines', '1', '0', '4']);
      const turn = await createRuntime().start(spec);
      await turn.done;
      const runtime = createRuntime();
      expect(await runtime.isAlive(turn.handle)).toBe(false);
      expect(await runtime.adopt(spec, turn.handle)).toEqual({
        exitCode: 4,
        timedOut: false,
        stopped: false,
      });
    });

    it('reports a turn that vanished without an exit file', async () => {
      const spec = turnSpec(['hang']);
      const turn = await createRuntime().start(spec);
      await waitForLog(spec, 'ready');
      process.kill(-turn.handle.pid, 'SIGKILL');
      await waitFor('the group to die', () => groupMembers(turn.handle.pid).length === 0);
      expect(await createRuntime().adopt(spec, turn.handle)).toEqual({
        exitCode: null,
        timedOut: false,
        stopped: false,
      });
    });

    it('does not take a process that reused the pid for the turn', async () => {
      const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
      try {
        const pid = stranger.pid!;
        const spec = turnSpec(['hang']);
        const handle = { runtime: name as Runtime['name'], pid, startedAt: Date.now() - 3_600_000 };
        const runtime = createRuntime();
        expect(await runtime.isAlive(handle)).toBe(false);
        expect(await runtime.adopt(spec, handle)).toEqual({
          exitCode: null,
          timedOut: false,
          stopped: false,
        });
        expect(runningProcesses().has(pid)).toBe(true);
      } finally {
        stranger.kill('SIGKILL');
      }
    });
  });
});

describe('the tmux runtime', () => {
  it('runs the turn in a window named after the session, shown in the pane, closed after', async () => {
    const spec = turnSpec(['lines', '2', '0.4', '0']);
    const turn = await createTmuxRuntime({ ...options, socketName: SOCKET }).start(spec);
    expect(turn.handle.tmuxTarget).toMatch(new RegExp(`^${TMUX_SESSION}:@\\d+$`));
    const windows = () =>
      tmux(SOCKET, 'list-windows', '-t', `=${TMUX_SESSION}`, '-F', '#{window_name}');
    expect(windows().split('\n')).toContain(spec.sessionId);
    // A person can attach to the session and watch the output as it comes.
    expect(tmuxOrNull(SOCKET, 'has-session', '-t', `=${TMUX_SESSION}`)).not.toBeNull();
    await waitFor('the output in the pane', () =>
      tmux(SOCKET, 'capture-pane', '-p', '-t', turn.handle.tmuxTarget!).includes('line 1'),
    );
    expect(await turn.done).toEqual({ exitCode: 0, timedOut: false, stopped: false });
    expect(
      (tmuxOrNull(SOCKET, 'list-windows', '-a', '-F', '#{window_name}') ?? '').split('\n'),
    ).not.toContain(spec.sessionId);
  });

  it('kills the window when it stops a turn', async () => {
    const spec = turnSpec(['hang']);
    const turn = await createTmuxRuntime({ ...options, socketName: SOCKET }).start(spec);
    await waitForLog(spec, 'ready');
    await turn.stop({ graceMs: 200 });
    expect(tmuxOrNull(SOCKET, 'list-windows', '-a', '-F', '#{window_name}') ?? '').not.toContain(
      spec.sessionId,
    );
  });

  it('starts the tmux server and its session when none is running', async () => {
    expect(tmuxOrNull(FRESH_SOCKET, 'list-sessions')).toBeNull();
    const runtime = createTmuxRuntime({ ...options, socketName: FRESH_SOCKET });
    const [first, second] = await Promise.all([
      runtime.start(turnSpec(['lines', '2', '0.3', '0'])),
      runtime.start(turnSpec(['lines', '2', '0.3', '1'])),
    ]);
    expect(tmux(FRESH_SOCKET, 'list-sessions', '-F', '#{session_name}')).toBe(TMUX_SESSION);
    expect(await first!.done).toMatchObject({ exitCode: 0 });
    expect(await second!.done).toMatchObject({ exitCode: 1 });
  });
});
