export interface WorkspaceErrorContext {
  repo?: string | undefined;
  sessionId?: string | undefined;
  branch?: string | undefined;
}

/** A workspace operation failed; the message says what, in plain words, and never holds a token. */
export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
  constructor(
    message: string,
    readonly context: WorkspaceErrorContext,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The remote refused the push: its branch has commits this worktree does not have. */
export class PushRejectedError extends WorkspaceError {
  override name = 'PushRejectedError';
}
