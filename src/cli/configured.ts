import { DataFolderLockedError } from '../db/data-folder-lock.js';
import { OperatorConfigError } from '../operator-config.js';
import { SettingsError } from '../settings.js';
import { CliError, EXIT } from './cli-error.js';

/**
 * Settings and operator config errors are configuration errors (exit 78); a data folder another
 * process holds is exit 73.
 */
export function configured<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    throw asCliError(error);
  }
}

/** The same, for a start that loads them itself or opens the database. */
export async function configuredAsync<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw asCliError(error);
  }
}

function asCliError(error: unknown): unknown {
  if (error instanceof DataFolderLockedError)
    return new CliError(error.message, EXIT.dataFolderHeld, undefined, { cause: error });
  if (error instanceof SettingsError || error instanceof OperatorConfigError)
    return new CliError(`Configuration error: ${error.message}`, EXIT.config, undefined, {
      cause: error,
    });
  return error;
}
