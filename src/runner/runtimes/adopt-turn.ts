import type { RunningTurn, Runtime, TurnHandle, TurnResult, TurnSpec } from './runtime.js';
import { readExitFile } from './turn-files.js';
import { turnAlive } from './watch-turn.js';

/**
 * Takes over a turn found in the database after a restart: a RunningTurn when its group is
 * still running, else its result from the exit file (exitCode null when it vanished without
 * one, e.g. killed with its group or lost in a reboot).
 */
export async function adoptTurn(
  runtime: Runtime['name'],
  spec: TurnSpec,
  handle: TurnHandle,
  watch: () => RunningTurn,
): Promise<RunningTurn | TurnResult> {
  if (handle.runtime !== runtime) {
    throw new Error(`a ${handle.runtime} turn cannot be adopted by the ${runtime} runtime`);
  }
  if (turnAlive(handle)) return watch();
  return { exitCode: (await readExitFile(spec.exitFile)) ?? null, timedOut: false, stopped: false };
}
