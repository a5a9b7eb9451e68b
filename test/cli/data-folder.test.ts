import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../../src/db/data-folder-lock.js';
import { CLI, ensureBuilt } from '../e2e/build.js';
import { type ServerProcess, spawnServer } from '../e2e/server-process.js';
import { generatePrivateKey } from '../helpers/processes.js';

interface Finished {
  code: number | null;
  output: string;
  /** Milliseconds from the start to the exit. */
  tookMs: number;
  /** Milliseconds from the first output matching the pattern to the exit. */
  exitedAfter(pattern: RegExp): number;
}

/** Runs the built `agent-orchestrator <args>` to its end (killed after 3 minutes: a hang). */
function runBuilt(args: string[], env: Record<string, string>, cwd: string): Promise<Finished> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: 'pipe' });
  const chunks: { at: number; text: string }[] = [];
  const onData = (c: Buffer) => void chunks.push({ at: Date.now(), text: c.toString() });
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const hang = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(hang);
      const ended = Date.now();
      resolve({
        code,
        output: chunks.map((c) => c.text).join(''),
        tookMs: ended - started,
        exitedAfter(pattern) {
          const said = chunks.find((c) => pattern.test(c.text));
          if (!said) throw new Error(`never said ${pattern}`);
          return ended - said.at;
        },
      });
    });
  });
}

const made: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh data folder and the environment a server on it runs with. */
function world() {
  const root = mkdtempSync(path.join(tmpdir(), 'ao-data-folder-'));
  made.push(root);
  const cwd = path.join(root, 'cwd');
  const home = path.join(root, 'home');
  for (const dir of [cwd, home]) mkdirSync(dir);
  const dataDir = path.join(root, 'data');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    APP_ID: '1',
    PRIVATE_KEY: generatePrivateKey(),
    WEBHOOK_SECRET: 'data-folder-secret',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Nothing listens here: the app's GitHub calls (failed-delivery recovery) stay on this machine.
    GHE_HOST: '127.0.0.1:9',
    GHE_PROTOCOL: 'http',
  };
  const lockFile = path.join(dataDir, LOCK_FILE);
  const holder = () =>
    existsSync(lockFile) ? (JSON.parse(readFileSync(lockFile, 'utf8')).pid as number) : null;
  return { cwd, dataDir, env, holder };
}

async function serve(env: Record<string, string>, cwd: string): Promise<ServerProcess> {
  const server = await spawnServer(env, cwd);
  servers.push(server);
  return server;
}

describe('one process per data folder (the built CLI)', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  it('refuses a second start and a migrate on a folder a server holds (73); the server keeps serving; its lock is taken over once it is killed', async () => {
    const w = world();
    const first = await serve(w.env, w.cwd);
    expect(w.holder()).toBe(first.pid);
    const refusal = new RegExp(
      `The data folder ${w.dataDir} is in use by pid ${first.pid} .*started \\d{4}-\\d\\d-\\d\\dT`,
    );

    const second = await runBuilt(['start'], w.env, w.cwd);
    expect(second.code, second.output).toBe(73);
    expect(second.output).toMatch(refusal);
    expect(second.output).toContain(
      'give this one another DATA_DIR, or use Postgres (DATABASE_URL)',
    );
    // It loads the app's modules and stops at the lock: seconds, even on a busy machine.
    expect(second.tookMs).toBeLessThan(30_000);

    const migrate = await runBuilt(['migrate'], w.env, w.cwd);
    expect(migrate.code, migrate.output).toBe(73);
    expect(migrate.output).toMatch(refusal);
    expect(migrate.output).not.toContain('migrations applied');

    const ready = await fetch(`${first.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ database: 'pglite' });
    expect(first.logs().filter((l) => l.level >= 50)).toEqual([]);
    expect(w.holder()).toBe(first.pid);

    first.kill('SIGKILL');
    await first.exited;
    expect(w.holder()).toBe(first.pid); // nobody released it
    const after = await runBuilt(['migrate'], w.env, w.cwd);
    expect(after.code, after.output).toBe(0);
    expect(after.output).toContain('migrations applied');
    expect(w.holder()).toBeNull();
  }, 240_000);

  it('exits promptly on a port in use, saying so and releasing the folder for the next start', async () => {
    const w = world();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const busy = await runBuilt(['start'], { ...w.env, PORT: String(port) }, w.cwd);
      expect(busy.code, busy.output).toBe(1);
      expect(busy.output).toContain(
        `Cannot listen on 127.0.0.1:${port}: the port is in use by another process`,
      );
      // From the failure to the exit: the database closed, the lock released, nothing left running.
      expect(busy.exitedAfter(/start failed; closing what it opened/)).toBeLessThan(5_000);
      expect(w.holder()).toBeNull();
    } finally {
      taken.close();
    }

    const next = await serve(w.env, w.cwd);
    expect(w.holder()).toBe(next.pid);
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
    await next.stop();
    expect(await next.exited).toEqual({ code: 0, signal: null });
    expect(w.holder()).toBeNull(); // released on a clean shutdown
  }, 240_000);
});
