/** The exit codes of `agent-orchestrator` (sysexits.h where one fits). */
export const EXIT = {
  ok: 0,
  /** It failed at run time: the server refused, GitHub refused, something broke. */
  failure: 1,
  /** Unknown command or option, missing or malformed argument. */
  usage: 2,
  /** EX_UNAVAILABLE: the server cannot be reached. */
  unavailable: 69,
  /** EX_CANTCREAT: the data folder (its embedded database) is held by another process. */
  dataFolderHeld: 73,
  /** EX_NOPERM: the server refused the API token. */
  noPermission: 77,
  /** EX_CONFIG: a setting is missing or wrong. */
  config: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What a command says on stderr before exiting with its code; usage errors add the usage text. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly usage?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const usageError = (message: string, usage: string) =>
  new CliError(message, EXIT.usage, usage);
