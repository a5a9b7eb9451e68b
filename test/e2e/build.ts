import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../helpers/processes.js';

/** The built command line, what `npm start` runs. */
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/**
 * `npm start` is `npm run build` (its prestart script) and then `node dist/cli.js start`. Test files
 * run in parallel, and two builds writing dist/ at once would collide (and a server starting while
 * another file builds could load half-written files), so the build runs under a lock, at most once
 * per test run (the workers of one run share a parent process), and only when a source is newer
 * than the last build these tests made.
 */
export async function ensureBuilt(): Promise<void> {
  const key = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12);
  const lock = path.join(tmpdir(), `agent-orchestrator-e2e-build-${key}.lock`);
  const stamp = path.join(REPO_ROOT, 'dist', '.e2e-build-stamp');
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSafe(path.join(lock, 'pid')));
      if (holder && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the build lock ${lock} was never released`);
      await sleep(200);
    }
  }
  try {
    const built = existsSync(stamp) && existsSync(CLI) ? statSync(stamp).mtimeMs : 0;
    const runId = testRunId();
    if (built && readFileSafe(stamp) === runId) return;
    if (newestSource() < built) return;
    const startedAt = new Date();
    const { code, output } = await run('npm', ['run', 'build'], REPO_ROOT);
    if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${output}`);
    // The time the build began: a source saved during the build makes the next run build again.
    writeFileSync(stamp, runId);
    utimesSync(stamp, startedAt, startedAt);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The vitest process this worker belongs to: its pid and start time (pids are reused). */
function testRunId(): string {
  const stat = readFileSafe(`/proc/${process.ppid}/stat`);
  return `${process.ppid}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''}`;
}

function newestSource(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json'])
    newest = Math.max(newest, statSync(path.join(REPO_ROOT, file)).mtimeMs);
  return newest;
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function run(command: string, args: string[], cwd: string) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(command, args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}
