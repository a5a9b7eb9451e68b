import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  groupAlive,
  leaderAlive,
  leaderStartedAround,
  signalGroup,
  signalProcess,
} from './process-group.js';
import type { RunningTurn, TurnHandle, TurnResult, TurnSpec } from './runtime.js';
import { readExitFile } from './turn-files.js';

/**
 * Whether the turn's process group is still running. A living leader must have started with
 * the turn: after a reboot its pid may belong to an unrelated process. Members left without
 * their leader are ours, since Linux does not reuse a pid still in use as a group id.
 */
export function turnAlive(handle: TurnHandle): boolean {
  if (leaderAlive(handle.pid)) return leaderStartedAround(handle.pid, handle.startedAt);
  return groupAlive(handle.pid);
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchTurnOptions {
  spec: TurnSpec;
  handle: TurnHandle;
  log: Logger;
  /** The grace between TERM and KILL when the time limit stops the turn. */
  graceMs: number;
  pollMs: number;
  /** Runs once the group is gone, before done settles (tmux closes the window). */
  cleanup?: () => Promise<void>;
}

/**
 * A RunningTurn over a process group, whoever started it: polls the group (a kill(2) and a
 * read of /proc a tick), enforces the time limit counted from handle.startedAt, and reads the
 * exit file once the group is gone. Its timers never keep the app alive: the turn outlives
 * the app by design and is adopted after a restart.
 */
function watchTurn({ spec, handle, log, graceMs, pollMs, cleanup }: WatchTurnOptions): RunningTurn {
  const pgid = handle.pid;
  let stopped = false;
  let timedOut = false;
  let ended = false;
  let terminating: Promise<void> | undefined;
  let warnedLeftovers = false;
  let limit: NodeJS.Timeout | undefined;

  const done = new Promise<TurnResult>((resolve, reject) => {
    const tick = async () => {
      if (groupAlive(pgid)) {
        if (!warnedLeftovers && !leaderAlive(pgid)) {
          warnedLeftovers = true;
          log.warn({ pgid }, 'turn ended but processes of its group are still running');
        }
        setTimeout(() => tick().catch(reject), pollMs).unref();
        return;
      }
      ended = true;
      clearTimeout(limit);
      const exitCode = (await readExitFile(spec.exitFile)) ?? null;
      await cleanup?.().catch((error: unknown) => log.warn({ err: error }, 'turn cleanup failed'));
      const result = { exitCode, timedOut, stopped };
      log.debug({ pgid, ...result }, 'turn ended');
      resolve(result);
    };
    tick().catch(reject);
  });

  const terminate = (grace: number): Promise<void> => {
    terminating ??= (async () => {
      // The wrapper forwards TERM to the whole group once; signalling the group as well would
      // hand the agent a second TERM, which some CLIs take as "quit without cleaning up".
      if (leaderAlive(pgid)) signalProcess(pgid, 'SIGTERM');
      else signalGroup(pgid, 'SIGTERM');
      const deadline = Date.now() + grace;
      while (groupAlive(pgid) && Date.now() < deadline) await sleep(Math.min(50, pollMs));
      if (groupAlive(pgid)) {
        log.warn({ pgid, graceMs: grace }, 'turn did not stop on SIGTERM; killing its group');
        signalGroup(pgid, 'SIGKILL');
      }
    })();
    return terminating;
  };

  const armLimit = () => {
    const remaining = handle.startedAt + spec.timeoutMs - Date.now();
    // setTimeout takes at most ~24.8 days; a longer limit is re-armed when that much has passed.
    limit = setTimeout(
      () => {
        if (ended) return;
        if (handle.startedAt + spec.timeoutMs > Date.now()) return armLimit();
        timedOut = true;
        log.warn({ pgid, timeoutMs: spec.timeoutMs }, 'turn exceeded its time limit; stopping it');
        terminate(graceMs).catch((error: unknown) =>
          log.error({ err: error }, 'stopping a turn failed'),
        );
      },
      Math.min(Math.max(0, remaining), MAX_TIMER_MS),
    );
    limit.unref();
  };
  armLimit();

  return {
    handle,
    done,
    async stop(options = {}) {
      if (!ended && groupAlive(pgid)) {
        stopped = true;
        await terminate(options.graceMs ?? graceMs);
      }
      await done;
    },
  };
}

/**
 * How a runtime watches its turns: each with a logger of its session and turn, and the
 * runtime's own cleanup (tmux closes the window) once the group is gone.
 */
export function turnWatcher(options: {
  log: Logger;
  graceMs: number;
  pollMs: number;
  cleanup?: (spec: TurnSpec, handle: TurnHandle) => Promise<void>;
}): (spec: TurnSpec, handle: TurnHandle) => RunningTurn {
  const { log, graceMs, pollMs, cleanup } = options;
  return (spec, handle) =>
    watchTurn({
      spec,
      handle,
      log: log.child({ sessionId: spec.sessionId, turnId: spec.turnId }),
      graceMs,
      pollMs,
      ...(cleanup ? { cleanup: () => cleanup(spec, handle) } : {}),
    });
}
