import { existsSync, readFileSync } from 'node:fs';

/** A process as a lock file records it: its pid, and what tells it from a later one with that pid. */
export interface ProcessIdentity {
  pid: number;
  /** Its start time in clock ticks since boot (/proc/<pid>/stat, field 22); absent without /proc. */
  startTicks?: string | undefined;
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, startTicks: procStat(process.pid)?.startTicks };
}

/**
 * Whether the process is still running: its pid is alive, not a zombie, and, where /proc says
 * when it started, it started when the record says (a pid is reused after its process ends).
 */
export function isRunning(identity: ProcessIdentity): boolean {
  if (!Number.isSafeInteger(identity.pid) || identity.pid <= 0) return false;
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(identity.pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
    return !identity.startTicks || stat.startTicks === identity.startTicks;
  }
  try {
    process.kill(identity.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procStat(pid: number): { state: string; startTicks: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count from its end.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, startTicks] = [fields[0], fields[19]];
  return state && startTicks ? { state, startTicks } : undefined;
}
