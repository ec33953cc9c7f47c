import { ConfigError } from '../errors.js';

/** Error codes of the Apache configuration reader (the model's own codes are in ../errors.ts). */
export const ApacheErrorCode = {
  /** Unbalanced or malformed sections, wrong argument counts, a directive where Apache refuses it. */
  SYNTAX: 'CONFIG_APACHE_SYNTAX',
  /** Include of a missing file, a pattern matching nothing, an include loop. */
  INCLUDE: 'CONFIG_APACHE_INCLUDE',
  /** An option mod_wsgi does not have (WSGIDaemonProcess, WSGIScriptAlias). */
  BAD_OPTION: 'CONFIG_APACHE_BAD_OPTION',
  /** An option or argument whose value cannot be used (processes=abc, Listen x:y). */
  BAD_VALUE: 'CONFIG_APACHE_BAD_VALUE',
  /**
   * Directives that restrict access or send requests elsewhere, which wsgi-host cannot honour
   * exactly: serve refuses the configuration (unless --accept-apache-differences).
   */
  REFUSED: 'CONFIG_APACHE_REFUSED',
  /** No Listen directive and no VirtualHost with a port: nothing says where to listen. */
  NO_LISTEN: 'CONFIG_APACHE_NO_LISTEN',
} as const;

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
