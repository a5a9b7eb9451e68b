import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFolderLockedError, LOCK_FILE, lockDataFolder } from '../../src/db/data-folder-lock.js';
import { currentProcess, isRunning } from '../../src/db/process-identity.js';
import { until } from '../helpers/until.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/hold-data-folder.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const made: string[] = [];
const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ao-lock-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Another process taking the folder's lock: it holds it until its stdin is closed. */
function holder(dir: string) {
  const child = spawn(process.execPath, ['--import', TSX, FIXTURE, dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    /** "locked <pid>" or "refused <holder pid>", once it has decided. */
    decided: () => until('the process to take or be refused the lock', () => output.trim(), 60_000),
    end: () => child.stdin.end(),
  };
}

/** A pid no process has now: a child's, once it has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const lockFile = (dir: string) => path.join(dir, LOCK_FILE);
const record = (dir: string) => JSON.parse(readFileSync(lockFile(dir), 'utf8'));

describe('the data folder lock', () => {
  it('records the pid and start time of the process that takes it, and release removes it', async () => {
    const dir = folder();
    const lock = await lockDataFolder(dir);
    expect(record(dir)).toMatchObject({
      pid: process.pid,
      startTicks: currentProcess().startTicks,
    });
    expect(Date.parse(record(dir).startedAt)).toBeLessThanOrEqual(Date.now());
    lock.release();
    lock.release();
    expect(existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses a second taker while the first runs, naming the folder, its pid and start', async () => {
    const dir = folder();
    const first = holder(dir);
    expect(await first.decided()).toBe(`locked ${first.child.pid}`);
    const error = await lockDataFolder(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataFolderLockedError);
    const { message, holder: held } = error as DataFolderLockedError;
    expect(held.pid).toBe(first.child.pid);
    expect(message).toContain(`The data folder ${dir} is in use by pid ${first.child.pid}`);
    expect(message).toContain(`started ${held.startedAt}`);
    first.end();
    expect(await first.exited).toBe(0);
  });

  it('is refused to a second taker in the same process too', async () => {
    const dir = folder();
    const lock = await lockDataFolder(dir);
    await expect(lockDataFolder(dir)).rejects.toThrow(`in use by pid ${process.pid}`);
    lock.release();
  });

  it('is released when its process exits, and free for the next one', async () => {
    const dir = folder();
    const first = holder(dir);
    expect(await first.decided()).toMatch(/^locked /);
    first.end();
    await first.exited;
    expect(existsSync(lockFile(dir))).toBe(false);
    (await lockDataFolder(dir)).release();
  });

  it('takes over the lock of a process that was killed', async () => {
    const dir = folder();
    const first = holder(dir);
    expect(await first.decided()).toMatch(/^locked /);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(record(dir).pid).toBe(first.child.pid); // nobody removed it
    const lock = await lockDataFolder(dir);
    expect(record(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid is dead', async () => {
    const dir = folder();
    const pid = await deadPid();
    writeFileSync(
      lockFile(dir),
      JSON.stringify({ pid, startedAt: '2020-01-01T00:00:00.000Z', command: 'x', token: 't' }),
    );
    const lock = await lockDataFolder(dir);
    expect(record(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid now belongs to a process started later', async () => {
    const dir = folder();
    // This process's pid, but not this process: it started at another time.
    writeFileSync(
      lockFile(dir),
      JSON.stringify({
        pid: process.pid,
        startTicks: '1',
        startedAt: '2020-01-01T00:00:00.000Z',
        command: 'x',
        token: 't',
      }),
    );
    const lock = await lockDataFolder(dir);
    expect(record(dir).startTicks).toBe(currentProcess().startTicks);
    lock.release();
  });

  it('takes over an empty lock file left by a crash while it was written', async () => {
    const dir = folder();
    writeFileSync(lockFile(dir), '');
    const past = new Date(Date.now() - 60_000);
    utimesSync(lockFile(dir), past, past);
    const lock = await lockDataFolder(dir);
    expect(record(dir).pid).toBe(process.pid);
    lock.release();
  });

  it('lets exactly one of several processes take over a stale lock at once', async () => {
    const dir = folder();
    writeFileSync(
      lockFile(dir),
      JSON.stringify({ pid: await deadPid(), startedAt: '', command: 'x', token: 't' }),
    );
    const takers = Array.from({ length: 4 }, () => holder(dir));
    const decisions = await Promise.all(takers.map((t) => t.decided()));
    const winners = takers.filter((t, i) => decisions[i] === `locked ${t.child.pid}`);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.child.pid;
    expect(decisions.filter((d) => d === `refused ${winner}`)).toHaveLength(3);
    for (const t of takers) t.end();
    await Promise.all(takers.map((t) => t.exited));
  }, 120_000);

  it('leaves a lock that is no longer its own when released', async () => {
    const dir = folder();
    const lock = await lockDataFolder(dir);
    const other = JSON.stringify({ pid: 1, startedAt: '', command: 'other', token: 'o' });
    writeFileSync(lockFile(dir), other);
    lock.release();
    expect(readFileSync(lockFile(dir), 'utf8')).toBe(other);
  });
});

describe('isRunning', () => {
  it('knows this process, and neither a dead pid nor this pid with another start time', async () => {
    expect(isRunning(currentProcess())).toBe(true);
    expect(isRunning({ pid: await deadPid() })).toBe(false);
    expect(isRunning({ pid: process.pid, startTicks: '1' })).toBe(false);
  });
});
