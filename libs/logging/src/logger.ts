/** Structured JSON logs on stdout (pino), one line per record. */
import pino from 'pino';

export type AppLogger = pino.Logger;

export function createLogger(level: string, name: 'collector' | 'api'): AppLogger {
  return pino({
    name,
    level,
    base: { service: `celery-monitor-${name}`, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
