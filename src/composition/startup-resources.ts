import type { Logger } from 'pino';

/** What a start has opened so far, to close when a later step fails. */
export interface StartupResources {
  add(name: string, close: () => unknown): void;
  /**
   * Logs why the start failed and closes everything added, the last opened first; a close that
   * fails is logged, not thrown.
   */
  closeAll(reason: unknown): Promise<void>;
}

export function createStartupResources(log: Logger): StartupResources {
  const opened: { name: string; close: () => unknown }[] = [];
  return {
    add(name, close) {
      opened.push({ name, close });
    },
    async closeAll(reason) {
      if (opened.length === 0) return;
      log.error({ err: reason }, 'start failed; closing what it opened');
      for (const { name, close } of opened.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          log.warn({ err: error, resource: name }, 'closing after a failed start failed');
        }
      }
    },
  };
}
