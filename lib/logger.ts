// One JSON logger (pino) for the whole process; components take child loggers named for themselves.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'webrecord'): Logger {
  // A log that cannot be written (stdout on a full disk, a closed pipe) loses lines, never the
  // process and the recordings in it.
  const dest = pino.destination({ dest: 1, sync: true });
  dest.on('error', () => undefined);
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}
