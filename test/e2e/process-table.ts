import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  pgid: number;
  cwd: string;
  args: string;
}

/**
 * Live processes whose working directory or command line lies under dir, leaving out the group
 * `excludeGroup` (the server's). Read from /proc, so a process that detached and forgot its
 * arguments (an agent's `sleep` grandchild) is still found by its working directory.
 */
export function processesUnder(dir: string, excludeGroup: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [state, , pgid] = [fields[0], fields[1], Number(fields[2])];
      if (state === 'Z' || pgid === excludeGroup) continue;
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cwd === dir || cwd.startsWith(`${dir}/`) || args.includes(dir))
        found.push({ pid: Number(entry), pgid, cwd, args });
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs every process under dir (agents a test left running), by pid. */
export function killProcessesUnder(dir: string): void {
  for (const p of processesUnder(dir, -1)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
