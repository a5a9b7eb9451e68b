import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { findExecutable } from '../find-binary.js';
import { adoptTurn } from './adopt-turn.js';
import type { Runtime, TurnHandle } from './runtime.js';
import { prepareTurnFiles } from './turn-files.js';
import { turnAlive, turnWatcher } from './watch-turn.js';
import { wrapperArgs } from './wrapper.js';

export interface RuntimeOptions {
  log: Logger;
  /** The grace between TERM and KILL when stop() is given none, and on the time limit (5 s). */
  graceMs?: number;
  /** How often a running turn's process group is checked (200 ms). */
  pollMs?: number;
}

/**
 * Runs each turn as a detached process group (the wrapper is its leader) that outlives the
 * app: no pipes to the app, output in the log file, status in the exit file.
 */
export function createProcessRuntime({
  log,
  graceMs = 5_000,
  pollMs = 200,
}: RuntimeOptions): Runtime {
  const bash = findExecutable('bash');
  const watch = turnWatcher({ log, graceMs, pollMs });

  return {
    name: 'process',

    async start(spec) {
      await prepareTurnFiles(spec);
      const startedAt = Date.now();
      const child = spawn(bash, wrapperArgs(spec), {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: 'ignore',
      });
      await once(child, 'spawn');
      child.unref();
      const pid = child.pid;
      if (pid === undefined) throw new Error('the turn wrapper started without a pid');
      const handle: TurnHandle = { runtime: 'process', pid, startedAt };
      log.info({ sessionId: spec.sessionId, turnId: spec.turnId, pid }, 'turn started');
      return watch(spec, handle);
    },

    adopt: (spec, handle) => adoptTurn('process', spec, handle, () => watch(spec, handle)),

    async isAlive(handle) {
      return turnAlive(handle);
    },
  };
}
