import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Mount points at or under a folder (overlay worktrees a test left mounted), deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const top = await realpath(dir).catch(() => path.resolve(dir));
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
    )
    .filter((point) => point === top || point.startsWith(`${top}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything under a folder, so that deleting it never walks into a live mount. */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) await exec('umount', ['--lazy', point]);
}
