/** Runs tasks one at a time per key, in arrival order; different keys run in parallel. */
export interface KeyedMutex<K> {
  run<T>(key: K, task: () => Promise<T>): Promise<T>;
}

export function createKeyedMutex<K>(): KeyedMutex<K> {
  // The last queued task's completion per key; dropped when the queue drains.
  const tails = new Map<K, Promise<void>>();
  return {
    async run(key, task) {
      const previous = tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      tails.set(key, tail);
      await previous;
      try {
        return await task();
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
