import { ConfigError } from '../errors.js';
export { ApacheErrorCode } from '../../error-codes.js';

/** A file and line of an Apache configuration. */
export interface Where {
  file: string;
  line: number;
}

/** A ConfigError about an Apache file and line; key names the directive (and option). */
export function apacheError(code: string, message: string, at: Where, key: string, hint: string): ConfigError {
  return new ConfigError(code, message, { source: { file: at.file, line: at.line, key }, hint });
}

/** "file:line", for messages. */
export const at = (w: Where): string => `${w.file}:${w.line}`;
