import { WsgiHostError } from '../errors.js';
export { ConfigErrorCode } from '../error-codes.js';

/** Where a config value came from, for messages: a file and line, or a command-line flag. */
export interface ConfigSource {
  file?: string;
  line?: number | undefined;
  /** '--python-home', 'WSGIDaemonProcess', 'group[0].python-home'... */
  key?: string;
}

/** A config input that cannot be used; the server does not start (or a reload is refused). */
export class ConfigError extends WsgiHostError {
  /** Path of the offending value in the config model, e.g. ['mount', 0, 'group']. */
  readonly path: (string | number)[];
  source: ConfigSource | undefined;

  constructor(code: string, message: string, options: { path?: (string | number)[]; hint?: string; cause?: unknown; source?: ConfigSource | undefined } = {}) {
    super(code, message, options);
    this.path = options.path ?? [];
    this.source = options.source;
  }

  /** "file:line: message" when the source is known. */
  describe(): string {
    const where = formatSource(this.source);
    return `${where ? `${where}: ` : ''}${this.message}${this.hint ? `\n  fix: ${this.hint}` : ''}`;
  }
}

/** "file:line (key)", "file", or "key", for messages. */
export function formatSource(s: ConfigSource | undefined): string | undefined {
  if (s === undefined) return undefined;
  if (s.file) return `${s.file}${s.line ? `:${s.line}` : ''}${s.key ? ` (${s.key})` : ''}`;
  return s.key;
}
