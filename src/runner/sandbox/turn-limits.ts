import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The ceilings one turn's processes share, all of them together. */
export interface TurnLimitValues {
  memoryBytes: number;
  /** Processes and threads at once. */
  processes: number;
}

/**
 * A cgroup per turn, under the runner's own, holding the turn's memory and process count: what a
 * fork bomb or a runaway build started by an agent meets. Where the kernel does not offer them to
 * this process (cgroup v2 without memory and pids delegated, a read-only /sys/fs/cgroup, no
 * permission), `available` is false and `why` says so; turns then run without.
 */
export interface TurnLimits {
  readonly available: boolean;
  readonly why: string;
  /** Makes the turn's cgroups; the `cgroup.procs` files its first process writes itself into. */
  open(name: string): Promise<string[]>;
  /** Removes the turn's cgroups once its processes are gone; nothing there is not an error. */
  close(name: string): Promise<void>;
  /**
   * Removes every turn's cgroup that holds no process and was made over `minAgeMs` ago (default
   * a minute): those of turns whose runner never saw them end. A turn still running keeps its
   * own, and so does one another runner in the same cgroup has just made for a turn starting.
   */
  sweep(minAgeMs?: number): Promise<number>;
}

const NAME = /^[a-z0-9-]{1,80}$/;
const PARENT = 'agent-orchestrator-turns';

interface Controller {
  /** The folder the turns' cgroups are made in. */
  dir: string;
  limits(values: TurnLimitValues): [file: string, value: string][];
}

/** Finds where this process may make cgroups, and proves it by making the parent of the turns'. */
export async function openTurnLimits(
  values: TurnLimitValues,
  { root = '/sys/fs/cgroup', self = '/proc/self/cgroup' } = {},
): Promise<TurnLimits> {
  const membership = await readFile(self, 'utf8').catch(() => '');
  const found = await findControllers(root, membership);
  if (typeof found === 'string') return unavailable(found);
  try {
    for (const controller of found) await mkdir(controller.dir, { recursive: true });
    if (found.length === 1) {
      // cgroup v2: the parent holds no process, so its children may have the controllers.
      await writeFile(path.join(found[0]!.dir, 'cgroup.subtree_control'), '+memory +pids');
    }
  } catch (error) {
    return unavailable(`cannot make cgroups here (${(error as NodeJS.ErrnoException).code})`);
  }
  const dirsOf = (name: string) => {
    if (!NAME.test(name)) throw new Error(`invalid cgroup name: ${name}`);
    return found.map((controller) => path.join(controller.dir, name));
  };
  return {
    available: true,
    why: '',
    async open(name) {
      const dirs = dirsOf(name);
      for (const [i, controller] of found.entries()) {
        await mkdir(dirs[i]!, { recursive: true });
        for (const [file, value] of controller.limits(values)) {
          await writeFile(path.join(dirs[i]!, file), value);
        }
      }
      return dirs.map((dir) => path.join(dir, 'cgroup.procs'));
    },
    async close(name) {
      for (const dir of dirsOf(name)) {
        await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
    },
    async sweep(minAgeMs = 60_000) {
      let removed = 0;
      for (const controller of found) {
        const entries = await readdir(controller.dir, { withFileTypes: true }).catch(() => []);
        for (const entry of entries) {
          if (!entry.isDirectory() || !NAME.test(entry.name)) continue;
          const dir = path.join(controller.dir, entry.name);
          const made = await stat(dir).catch(() => null);
          if (!made || Date.now() - made.mtimeMs < minAgeMs) continue;
          // The kernel refuses (EBUSY) to remove a cgroup that still holds a process.
          const gone = await rmdir(dir).then(
            () => true,
            () => false,
          );
          if (gone) removed += 1;
        }
      }
      return removed;
    },
  };
}

/** The controllers' folders for this process: v1's memory and pids hierarchies, or v2's one. */
async function findControllers(root: string, membership: string): Promise<Controller[] | string> {
  const lines = membership
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, controllers = '', ...rest] = line.split(':');
      return { id, controllers: controllers.split(','), path: rest.join(':') };
    });
  const v1 = (name: string) => lines.find((line) => line.controllers.includes(name));
  const memory = v1('memory');
  const pids = v1('pids');
  if (memory && pids) {
    return [
      {
        dir: path.join(root, 'memory', memory.path, PARENT),
        limits: ({ memoryBytes }) => [['memory.limit_in_bytes', String(memoryBytes)]],
      },
      {
        dir: path.join(root, 'pids', pids.path, PARENT),
        limits: ({ processes }) => [['pids.max', String(processes)]],
      },
    ];
  }
  const unified = lines.find((line) => line.id === '0' && line.controllers.join('') === '');
  if (!unified) return 'this process belongs to no memory and pids cgroups';
  const own = path.join(root, unified.path);
  const delegated = await readFile(path.join(own, 'cgroup.subtree_control'), 'utf8').catch(
    () => '',
  );
  if (!/\bmemory\b/.test(delegated) || !/\bpids\b/.test(delegated)) {
    return `cgroup v2 without the memory and pids controllers delegated to ${unified.path}`;
  }
  return [
    {
      dir: path.join(own, PARENT),
      limits: ({ memoryBytes, processes }) => [
        ['memory.max', String(memoryBytes)],
        ['pids.max', String(processes)],
      ],
    },
  ];
}

function unavailable(why: string): TurnLimits {
  return {
    available: false,
    why,
    open: async () => [],
    close: async () => {},
    sweep: async () => 0,
  };
}
