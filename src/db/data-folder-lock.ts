import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { currentProcess, isRunning } from './process-identity.js';

/** The lock file's name in the data folder. */
export const LOCK_FILE = 'agent-orchestrator.lock';

const lockRecordSchema = z.object({
  pid: z.number().int(),
  startTicks: z.string().optional(),
  /** When the holding process started (ISO 8601), for the message of the one refused. */
  startedAt: z.string(),
  command: z.string(),
  /** Tells this take of the lock from another one by the same process. */
  token: z.string(),
});
export type LockRecord = z.infer<typeof lockRecordSchema>;

/** The data folder is held by a running process; names the folder and that process. */
export class DataFolderLockedError extends Error {
  override name = 'DataFolderLockedError';
  constructor(
    readonly folder: string,
    readonly holder: LockRecord,
  ) {
    super(
      `The data folder ${folder} is in use by pid ${holder.pid} (${holder.command}), started ${holder.startedAt}. ` +
        'Its embedded database (PGlite) can be opened by one process at a time: stop that process, ' +
        'give this one another DATA_DIR, or use Postgres (DATABASE_URL).',
    );
  }
}

export interface DataFolderLock {
  readonly file: string;
  /** Removes the lock file if it is still this lock's; safe to call more than once. */
  release(): void;
}

type Found =
  | { state: 'gone' }
  | { state: 'writing' }
  | { state: 'held'; record: LockRecord }
  | { state: 'stale'; text: string };

// A lock file with no record yet is being written, unless it has stayed so this long.
const WRITING_MS = 2_000;

/**
 * Takes the data folder for this process: creates its lock file atomically (`wx`), or takes over
 * one whose process has ended (a dead pid, or a pid now reused by a process started later).
 * Throws DataFolderLockedError while a running process holds it. Released by release(), or when
 * the process exits.
 */
export async function lockDataFolder(folder: string): Promise<DataFolderLock> {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, LOCK_FILE);
  const record: LockRecord = {
    ...currentProcess(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    command: process.argv.join(' ').slice(0, 200),
    token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(record)}\n`;
  const deadline = Date.now() + 10_000;
  while (!create(file, text)) {
    const found = inspect(file);
    if (found.state === 'held') throw new DataFolderLockedError(folder, found.record);
    if (found.state === 'stale') await takeOver(file, found.text, text);
    else if (found.state === 'writing') await sleep(20);
    if (Date.now() > deadline) throw new Error(`could not take the lock file ${file} in 10 s`);
  }

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    removeIfUnchanged(file, text);
  };
  process.on('exit', release);
  return { file, release };
}

/**
 * Removes a stale lock file under a second lock, so that of two processes that both found it
 * stale only one removes it: the other then finds the first one's lock, and is refused.
 */
async function takeOver(file: string, staleText: string, ownText: string): Promise<void> {
  const guard = `${file}.takeover`;
  if (!create(guard, ownText)) {
    const found = inspect(guard);
    if (found.state === 'stale') removeIfUnchanged(guard, found.text); // its taker died
    await sleep(20);
    return;
  }
  try {
    removeIfUnchanged(file, staleText);
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Creates the file with its whole content, or returns false when it exists. */
function create(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

function inspect(file: string): Found {
  let text: string;
  let modified: number;
  try {
    text = readFileSync(file, 'utf8');
    modified = statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    throw error;
  }
  const record = parse(text);
  if (record) return isRunning(record) ? { state: 'held', record } : { state: 'stale', text };
  return Date.now() - modified < WRITING_MS ? { state: 'writing' } : { state: 'stale', text };
}

function parse(text: string): LockRecord | undefined {
  try {
    return lockRecordSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function removeIfUnchanged(file: string, text: string): void {
  try {
    if (readFileSync(file, 'utf8') === text) rmSync(file, { force: true });
  } catch {
    // already gone
  }
}
