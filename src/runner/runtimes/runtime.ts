/**
 * A runtime runs one agent turn as a group of processes and tells when it ended. The turn's
 * output goes to a log file and its exit status to an exit file, so both survive a restart of
 * the app: a turn started before a crash can be re-adopted or finished from its exit file.
 */

export interface TurnSpec {
  /** Validated session id (see names.ts); names the tmux window. */
  sessionId: string;
  turnId: number;
  /** argv[0] is the program (the sandbox's, which runs the agent's); never a shell string. */
  argv: string[];
  /** The agent's own program, when argv[0] is the sandbox's. */
  program?: string | undefined;
  /** The whole environment of the agent (already allow-listed). */
  env: Record<string, string>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** The exit status is written here (as text) when the turn ends. */
  exitFile: string;
  /** Fed to the agent's stdin when set; otherwise stdin is empty. */
  stdinFile?: string | undefined;
  /** The turn is stopped and reported timedOut after this long. */
  timeoutMs: number;
  /** The `cgroup.procs` files of the turn's cgroups, which its agent joins before it starts. */
  cgroups?: readonly string[] | undefined;
}

/** What is recorded in the database to find a turn again after a restart. */
export interface TurnHandle {
  runtime: 'process' | 'tmux';
  /** The process group leader (the wrapper); the whole group is stopped together. */
  pid: number;
  /** tmux only: the window target, e.g. `agent-orchestrator:s-abc123`. */
  tmuxTarget?: string | undefined;
  startedAt: number;
}

export interface TurnResult {
  /** The agent's exit status; null when it was killed or the status is unknown. */
  exitCode: number | null;
  timedOut: boolean;
  /** Stopped through stop(): by a person, a cleanup or shutdown. */
  stopped: boolean;
}

export interface RunningTurn {
  handle: TurnHandle;
  /** Settles when the turn has ended and its process group is gone. */
  done: Promise<TurnResult>;
  /** Stops the whole process group: SIGTERM, then SIGKILL after graceMs. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

export interface Runtime {
  readonly name: 'process' | 'tmux';
  start(spec: TurnSpec): Promise<RunningTurn>;
  /**
   * Takes over a turn started by an earlier process of the app. Returns its result at once when
   * it already ended (from the exit file), or a RunningTurn watching it when it is still alive.
   */
  adopt(spec: TurnSpec, handle: TurnHandle): Promise<RunningTurn | TurnResult>;
  isAlive(handle: TurnHandle): Promise<boolean>;
}
