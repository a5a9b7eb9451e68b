import { GitCommandError } from './git-command.js';
import { WorkspaceError, type WorkspaceErrorContext } from './workspace-error.js';

/** Runs a step, turning a failed git command into a WorkspaceError that says what failed. */
export async function explain<T>(
  context: WorkspaceErrorContext,
  what: string,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof GitCommandError) {
      throw new WorkspaceError(`${what}: ${error.reason}`, context, { cause: error });
    }
    throw error;
  }
}
