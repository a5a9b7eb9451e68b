/**
 * Polls `check` every 100 ms until it returns something truthy, and returns that. After
 * `timeoutMs` it throws, naming what it waited for and, if given, what `explain` adds (a server's
 * output, say).
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 30_000,
  explain?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) {
      const more = explain?.();
      throw new Error(`timed out waiting for ${what}${more ? `; ${more}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
