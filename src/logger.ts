import { type Logger, pino } from 'pino';

export type { Logger };

/** pino JSON logs on stderr (stdout stays for command output); secrets redacted. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { app: 'ballast', pid: process.pid, ...bindings },
      redact: {
        paths: [
          'token',
          'apiToken',
          'authorization',
          'headers.authorization',
          'req.headers.authorization',
          '*.password',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
