import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { findExecutable } from '../find-binary.js';
import { tmuxWindowName } from '../names.js';
import { adoptTurn } from './adopt-turn.js';
import { waitForOwnGroup } from './process-group.js';
import type { RuntimeOptions } from './process-runtime.js';
import type { Runtime, TurnHandle, TurnSpec } from './runtime.js';
import { prepareTurnFiles } from './turn-files.js';
import { turnAlive, turnWatcher } from './watch-turn.js';
import { argvFileContents, wrapperArgs } from './wrapper.js';

const run = promisify(execFile);

export interface TmuxRuntimeOptions extends RuntimeOptions {
  /** The tmux session that holds one window per running turn (`agent-orchestrator`). */
  tmuxSession?: string;
  /** A tmux server of its own (`tmux -L <name>`), e.g. one per test file. */
  socketName?: string;
}

const TMUX_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The variables the tmux client (and a server it starts) keeps from the app's environment. */
const CLIENT_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'TMUX_TMPDIR', 'LANG', 'LC_ALL', 'LC_CTYPE'];
/** tmux refuses a command over 16 KB; longer argvs go through a file. */
const MAX_INLINE_COMMAND = 12_000;
const argvFile = (spec: TurnSpec) => `${spec.exitFile}.argv`;

/**
 * Runs each turn in a window of a detached tmux session, named after the session id, so that a
 * person can `tmux attach -t agent-orchestrator` and watch. The window runs the same wrapper as
 * the process runtime, which tees the output to the pane and the log file. The window's
 * environment is exactly the spec's: `env -i` clears whatever tmux's global environment holds.
 */
export function createTmuxRuntime({
  log,
  tmuxSession = 'agent-orchestrator',
  socketName,
  graceMs = 5_000,
  pollMs = 200,
}: TmuxRuntimeOptions): Runtime {
  if (!TMUX_NAME.test(tmuxSession)) throw new Error(`invalid tmux session name: ${tmuxSession}`);
  if (socketName !== undefined && !TMUX_NAME.test(socketName)) {
    throw new Error(`invalid tmux socket name: ${socketName}`);
  }
  const tmuxPath = findExecutable('tmux');
  const envPath = findExecutable('env');
  const bash = findExecutable('bash');
  const clientEnv: Record<string, string> = {};
  for (const name of CLIENT_ENV) {
    const value = process.env[name];
    if (value !== undefined) clientEnv[name] = value;
  }

  const tmux = async (args: string[]): Promise<string> => {
    const socket = socketName === undefined ? [] : ['-L', socketName];
    const { stdout } = await run(tmuxPath, [...socket, ...args], { env: clientEnv });
    return stdout.trim();
  };

  /** new-window in our session, or new-session when there is none (or no server) yet. */
  const openWindow = async (args: string[]): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await tmux(['new-window', '-d', '-t', `=${tmuxSession}:`, ...args]);
      } catch {
        try {
          return await tmux(['new-session', '-d', '-s', tmuxSession, ...args]);
        } catch (error) {
          // Another process created the session meanwhile, or the server was exiting.
          if (attempt >= 3) throw error;
          await sleep(50 * attempt);
        }
      }
    }
  };
  let opening: Promise<unknown> = Promise.resolve();

  /** Closes the turn's window unless it is gone or now belongs to another pane (new server). */
  const closeWindow = async (handle: TurnHandle) => {
    if (!handle.tmuxTarget) return;
    const panePid = await tmux([
      'display-message',
      '-p',
      '-t',
      handle.tmuxTarget,
      '#{pane_pid}',
    ]).catch(() => undefined);
    if (panePid === String(handle.pid)) await tmux(['kill-window', '-t', handle.tmuxTarget]);
  };

  const watch = turnWatcher({
    log,
    graceMs,
    pollMs,
    cleanup: async (spec, handle) => {
      await closeWindow(handle);
      await rm(argvFile(spec), { force: true });
    },
  });

  return {
    name: 'tmux',

    async start(spec) {
      const window = tmuxWindowName(spec.sessionId);
      const env = Object.entries(spec.env).map(([name, value]) => {
        if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name: ${name}`);
        return `${name}=${value}`;
      });
      await prepareTurnFiles(spec);
      let command = [envPath, '-i', ...env, bash, ...wrapperArgs(spec, { tee: true })];
      if (
        command.reduce((size, arg) => size + Buffer.byteLength(arg) + 1, 0) > MAX_INLINE_COMMAND
      ) {
        await writeFile(argvFile(spec), argvFileContents(spec.argv), { mode: 0o600 });
        command = [
          envPath,
          '-i',
          ...env,
          bash,
          ...wrapperArgs(spec, { tee: true, argvFile: argvFile(spec) }),
        ];
      }

      const startedAt = Date.now();
      const opened = opening.then(() =>
        openWindow([
          '-n',
          window,
          '-c',
          spec.cwd,
          '-P',
          '-F',
          '#{window_id} #{pane_pid}',
          '--',
          ...command,
        ]),
      );
      opening = opened.catch(() => {});
      const [windowId, panePid] = (await opened).split(' ');
      const pid = Number(panePid);
      if (!windowId || !Number.isInteger(pid) || pid <= 0) {
        throw new Error(`tmux did not report the new window and its pane: ${windowId} ${panePid}`);
      }
      // Watching before the pane's process has its group would see the turn as already gone.
      await waitForOwnGroup(pid);
      const handle: TurnHandle = {
        runtime: 'tmux',
        pid,
        tmuxTarget: `${tmuxSession}:${windowId}`,
        startedAt,
      };
      log.info(
        { sessionId: spec.sessionId, turnId: spec.turnId, pid, tmuxTarget: handle.tmuxTarget },
        'turn started in tmux',
      );
      return watch(spec, handle);
    },

    adopt: (spec, handle) => adoptTurn('tmux', spec, handle, () => watch(spec, handle)),

    async isAlive(handle) {
      return turnAlive(handle);
    },
  };
}
