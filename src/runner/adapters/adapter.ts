/** What an agent CLI said during a turn, in a form independent of the CLI. */
export type AgentEvent =
  | { type: 'session'; ref: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; summary?: string | undefined }
  | {
      /**
       * A turn may yield several (e.g. one per model call); each covers the turn so far, so the
       * last one wins.
       */
      type: 'result';
      isError: boolean;
      /** The agent's final words for this turn; used in the pull request body. */
      summary?: string | undefined;
      costUsd?: number | undefined;
      inputTokens?: number | undefined;
      outputTokens?: number | undefined;
    };

/** The per-repository or per-trigger choice of agent and how to run it. */
export interface AgentProfile {
  model?: string | undefined;
  /** Extra instructions appended to the prompt. */
  instructions?: string | undefined;
  /** An MCP configuration file handed to agents that support one. */
  mcpConfig?: string | undefined;
}

export interface FirstTurnInput {
  workdir: string;
  /** The turn runs in the runner's sandbox, as a user that is not root. */
  sandboxed?: boolean | undefined;
  /** The whole prompt, as a file. */
  promptFile: string;
  profile: AgentProfile;
}

export interface NextTurnInput {
  workdir: string;
  /** The turn runs in the runner's sandbox, as a user that is not root. */
  sandboxed?: boolean | undefined;
  /** The message(s) for this turn, as a file. */
  messageFile: string;
  /** The agent's own session reference from an earlier turn, when it gave one. */
  sessionRef: string | null;
  profile: AgentProfile;
}

export interface TurnCommand {
  /** argv[0] is the program (the adapter's binary); run without a shell. */
  argv: string[];
  /** Variables the adapter adds to the agent's environment (on top of the allow-list). */
  env: Record<string, string>;
  /** A file fed to stdin (e.g. the prompt), when the CLI reads it there. */
  stdinFile?: string | undefined;
}

export interface AgentAdapter {
  /** `claude-code`, `codex`, `aider`, `opencode`, or an operator-defined name. */
  readonly name: string;
  /** The program looked up on PATH; a missing one is reported on the issue. */
  readonly binary: string;
  /** Environment variable names passed through from the app's environment when set. */
  readonly passEnv: readonly string[];
  /**
   * Hosts the agent reaches from its sandbox: its model's API (egress-allow.ts entries). The
   * operator adds more under `egress.allow`; an endpoint variable passed to it is added too.
   */
  readonly egress: readonly string[];
  firstTurn(input: FirstTurnInput): TurnCommand;
  nextTurn(input: NextTurnInput): TurnCommand;
  /** A fresh parser per turn: one output line in, zero or more events out. */
  createParser(): (line: string) => AgentEvent[];
}
