import { readdirSync, readFileSync } from 'node:fs';
import { rssKb } from './server.js';

/** The pids of a process's children, grandchildren and so on (from /proc). */
function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {}
    for (const child of children.split(' ').filter(Boolean).map(Number)) {
      found.push(child, ...descendants(child));
    }
  }
  return found;
}

/** VmRSS of a process and all its descendants, summed, in kilobytes. */
export function treeRssKb(pid: number): number {
  return [pid, ...descendants(pid)]
    .map(rssKb)
    .filter(Number.isFinite)
    .reduce((a, b) => a + b, 0);
}

/**
 * Samples the resident memory of a process with its descendants every everyMs, from outside.
 * VmHWM of the process itself misses its children (PGlite's initdb runs in one): this catches
 * them, to within a sample.
 */
export function sampleProcessTree(pid: number, everyMs = 20) {
  let peakKb = 0;
  const sample = () => {
    peakKb = Math.max(peakKb, treeRssKb(pid));
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    /** The highest sum seen so far. */
    peakKb: () => peakKb,
    stop(): number {
      clearInterval(timer);
      sample();
      return peakKb;
    },
  };
}
