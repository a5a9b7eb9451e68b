import { type Logger, pino } from 'pino';
import type { Settings } from './settings.js';

/** The root logger; everything else takes a child carrying its delivery, repository or session. */
export function createLogger(settings: Pick<Settings, 'logLevel'>): Logger {
  return pino({
    level: settings.logLevel,
    base: { app: 'agent-orchestrator' },
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
  });
}
