import { OperatorConfigError } from '../operator-config.js';
import { SettingsError } from '../settings.js';
import { CliError, EXIT } from './cli-error.js';

/** Settings and operator config errors are configuration errors (exit 78). */
export function configured<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    throw asConfigError(error);
  }
}

/** The same, for a start that loads them itself. */
export async function configuredAsync<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw asConfigError(error);
  }
}

function asConfigError(error: unknown): unknown {
  if (error instanceof SettingsError || error instanceof OperatorConfigError)
    return new CliError(`Configuration error: ${error.message}`, EXIT.config, undefined, {
      cause: error,
    });
  return error;
}
