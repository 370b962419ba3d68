// One JSON logger (pino) for the whole process; components take child loggers named for themselves.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'webrecord'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
