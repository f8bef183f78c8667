import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'parley' },
      redact: { paths: ['req.headers.authorization', 'token', '*.token'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}
