import { redactSecrets } from '../secrets.js';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

/**
 * stderr logs: human lines by default, or JSON lines ({ts, level, msg, ...fields}) for log shippers.
 * Everything passes through redactSecrets, fields included.
 */
export function createLogger(
  format: LogFormat,
  sink: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  now: () => Date = () => new Date(),
): Logger {
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (format === 'json') {
      sink(redactSecrets(JSON.stringify({ ts: now().toISOString(), level, msg, ...fields })));
    } else {
      const prefix = level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : '';
      sink(redactSecrets(`${prefix}${msg}`));
    }
  };
  return {
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
