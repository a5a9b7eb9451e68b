import { readdirSync, readFileSync } from 'node:fs';

/**
 * Process groups seen through kill(2) and, on Linux, /proc. kill(-pgid, 0) alone is not enough:
 * it succeeds for zombies, and an init that is slow to reap orphans (or node as PID 1 in a
 * container) leaves the dead members of a killed group as zombies for a while.
 */

interface ProcStat {
  state: string;
  pgrp: number;
  /** Clock ticks since boot. */
  startTicks: number;
}

const HAS_PROC = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

/** USER_HZ: the unit of the start times in /proc/<pid>/stat on every Linux build that matters. */
const TICKS_PER_SECOND = 100;

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces or parentheses itself.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0] ?? '?',
    pgrp: Number(fields[2]),
    startTicks: Number(fields[19]),
  };
}

let bootTimeMs: number | undefined;
function bootTime(): number {
  if (bootTimeMs === undefined) {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('btime '));
    bootTimeMs = Number(line?.slice(6)) * 1000;
  }
  return bootTimeMs;
}

function killSucceeds(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The group leader itself is running (not a zombie, still leading its group). */
export function leaderAlive(pgid: number): boolean {
  if (!killSucceeds(pgid)) return false;
  if (!HAS_PROC) return true;
  const stat = readStat(pgid);
  return stat !== undefined && stat.state !== 'Z' && stat.pgrp === pgid;
}

/** Some member of the group is still running; zombies do not count. */
export function groupAlive(pgid: number): boolean {
  if (!killSucceeds(-pgid)) return false;
  if (!HAS_PROC) return true;
  if (leaderAlive(pgid)) return true;
  // The leader is gone but kill still reaches the group: look for a living member.
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/**
 * Whether the group leader started around `startedAt` (ms since the epoch), so that a pid
 * recorded before a reboot and since reused by an unrelated process is not taken for ours.
 * True when it cannot tell (no /proc).
 */
export function leaderStartedAround(pgid: number, startedAt: number, slackMs = 30_000): boolean {
  if (!HAS_PROC) return true;
  const stat = readStat(pgid);
  if (!stat) return false;
  const started = bootTime() + (stat.startTicks / TICKS_PER_SECOND) * 1000;
  return started >= startedAt - slackMs && started <= startedAt + 2 * slackMs;
}

/**
 * Waits until a process that was just forked has made its own group (tmux reports a pane's pid
 * before the pane's process calls setsid), or is gone, or a few seconds have passed.
 */
export async function waitForOwnGroup(pid: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!killSucceeds(-pid) && killSucceeds(pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Signals every member of the group; a group already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Signals one process; one already gone is fine. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
