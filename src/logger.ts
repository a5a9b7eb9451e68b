import { type DestinationStream, type Logger, pino } from 'pino';
import { serializeError } from './serialize-error.js';
import type { Settings } from './settings.js';

/**
 * The root logger; everything else takes a child carrying its delivery, repository or session.
 * Errors are logged without a database query's parameters, their text fields clipped.
 */
export function createLogger(
  settings: Pick<Settings, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  const options = {
    level: settings.logLevel,
    base: { app: 'agent-orchestrator' },
    serializers: { err: serializeError, error: serializeError },
    redact: {
      paths: [
        'privateKey',
        'token',
        '*.token',
        'headers.authorization',
        'req.headers.authorization',
        'config.headers.authorization',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
