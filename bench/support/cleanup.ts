/**
 * Cleanups registered by the benchmarks, run in reverse order when one finishes, and on Ctrl-C,
 * so no server, child process, database or temporary folder outlives a run.
 */
type Cleanup = () => Promise<void> | void;

export interface CleanupStack {
  add(name: string, cleanup: Cleanup): void;
  /** Runs every cleanup (last added first); errors are reported, not thrown. */
  run(): Promise<void>;
}

const active = new Set<CleanupStack>();

export function createCleanupStack(log: (message: string) => void): CleanupStack {
  const stack: { name: string; cleanup: Cleanup }[] = [];
  const self: CleanupStack = {
    add: (name, cleanup) => void stack.push({ name, cleanup }),
    async run() {
      while (stack.length > 0) {
        const { name, cleanup } = stack.pop()!;
        try {
          await cleanup();
        } catch (error) {
          log(`cleanup of ${name} failed: ${(error as Error).message}`);
        }
      }
      active.delete(self);
    },
  };
  active.add(self);
  return self;
}

/** Runs all open cleanups; for a signal handler. */
export async function runAllCleanups(): Promise<void> {
  await Promise.all([...active].map((stack) => stack.run()));
}
