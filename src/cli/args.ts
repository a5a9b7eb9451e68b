import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './cli-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs, strict, with `--help` added: an unknown option or a missing value becomes
 * a usage error (exit 2) that prints the command's usage.
 */
export function parseCommandArgs<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError((error as Error).message, usage);
  }
}

/** A whole number of at least `min`, or a usage error naming the option. */
export function wholeNumber(value: string, what: string, usage: string, min = 1): number {
  if (!/^\d+$/.test(value) || Number(value) < min)
    throw usageError(`${what} must be a whole number of at least ${min}, not "${value}"`, usage);
  return Number(value);
}
