import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout. Secrets never reach here: API keys and ARI passwords are not logged anywhere. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cc-csat' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['password', '*.password', 'headers["x-api-key"]', 'apiKey'], censor: '[redacted]' },
    },
    // Asynchronous writes: a log line never holds the event loop that carries live callers' events.
    // pino flushes what is pending when the process exits.
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
