/**
 * reason: the one catalog of every stable code wsgi-host reports, kept whole so that it reads as
 * one list and can be held against docs/errors.md (test/unit/error-catalog.test.ts).
 *
 * Each layer has its own table (ConfigErrorCode, RefusalCode, ...), defined here and re-exported
 * by that layer's errors file, which is where its code imports it from; this file sits at the
 * bottom layer so that every layer may. A code is stable: tools, tests and users match on it, and
 * docs/errors.md says what each one means and what to do. A new code goes into its layer's table
 * here and into docs/errors.md; a new table goes into ERROR_CODE_TABLES below.
 */

// re-exported by src/config/errors.ts
export const ConfigErrorCode = {
  INVALID_VALUE: 'CONFIG_INVALID_VALUE',
  UNKNOWN_KEY: 'CONFIG_UNKNOWN_KEY',
  BAD_NUMBER: 'CONFIG_BAD_NUMBER',
  DUPLICATE_GROUP: 'CONFIG_DUPLICATE_GROUP',
  UNKNOWN_GROUP: 'CONFIG_UNKNOWN_GROUP',
  MOUNT_TARGET: 'CONFIG_MOUNT_TARGET',
  SCRIPT_NOT_FOUND: 'CONFIG_SCRIPT_NOT_FOUND',
  DUPLICATE_MOUNT: 'CONFIG_DUPLICATE_MOUNT',
  NO_MOUNTS: 'CONFIG_NO_MOUNTS',
  SYNTAX: 'CONFIG_SYNTAX',
  FILE_NOT_FOUND: 'CONFIG_FILE_NOT_FOUND',
  /** A front-door key the model knows but this version does not serve yet (pending-features.ts). */
  NOT_SERVED_YET: 'CONFIG_NOT_SERVED_YET',
  BAD_FLAG: 'CLI_BAD_FLAG',
  /** --host/--port would put virtual hosts of different addresses on one listener. */
  LISTEN_OVERRIDE: 'CONFIG_LISTEN_OVERRIDE',
} as const;

// re-exported by src/config/apache/errors.ts
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

// re-exported by src/access/errors.ts
/** Stable codes of access rules. */
export const AccessErrorCode = {
  /** An access rule that cannot be used (a bad address, a 'not' without effect...). */
  RULE: 'CONFIG_ACCESS_RULE',
} as const;

// re-exported by src/python/errors.ts
export const PythonErrorCode = {
  HOME_NOT_FOUND: 'PYTHON_HOME_NOT_FOUND',
  HOME_IS_EXECUTABLE: 'PYTHON_HOME_IS_EXECUTABLE',
  HOME_IS_SITE_PACKAGES: 'PYTHON_HOME_IS_SITE_PACKAGES',
  HOME_INSIDE_ENVIRONMENT: 'PYTHON_HOME_INSIDE_ENVIRONMENT',
  HOME_IS_FILE: 'PYTHON_HOME_NOT_A_DIRECTORY',
  NO_INTERPRETER: 'PYTHON_HOME_NO_INTERPRETER',
  BROKEN_VENV: 'PYTHON_HOME_BROKEN_VENV',
  PREFIX_MISMATCH: 'PYTHON_HOME_PREFIX_MISMATCH',
  TOO_OLD: 'PYTHON_TOO_OLD',
  PROBE_FAILED: 'PYTHON_PROBE_FAILED',
  NOT_RUNNABLE: 'PYTHON_NOT_RUNNABLE',
  NO_PYTHON_ON_PATH: 'PYTHON_NOT_ON_PATH',
} as const;

// re-exported by src/protocol/protocol-error.ts
/** Stable codes of the worker protocol's checks (docs/protocol.md). */
export const ProtocolErrorCode = {
  /** A worker broke the framed protocol. */
  WORKER_PROTOCOL: 'WORKER_PROTOCOL_ERROR',
  /** A worker's response head cannot be sent (its status, a header name or value). */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
} as const;

// re-exported by src/observability/access-log.ts
/** Stable codes of the access log (a format is a value of the configuration). */
export const AccessLogErrorCode = {
  /** A log format with an atom the access log does not know: a value of the configuration, so CONFIG_INVALID_VALUE. */
  FORMAT: ConfigErrorCode.INVALID_VALUE,
} as const;

// re-exported by src/workers/errors.ts
/** Stable codes of the worker side (docs/errors.md). */
export const WorkerErrorCode = {
  /** The application raised while loading. */
  APP_LOAD_FAILED: 'APP_LOAD_FAILED',
  /** A process did not start, or did not report ready within startup-timeout. */
  START_FAILED: 'WORKER_START_FAILED',
  /** Processes of a group kept dying young: the group is marked failed. */
  CRASH_LOOP: 'CRASH_LOOP',
  /** A WSGI script cannot be read by its group's user. */
  SCRIPT_UNREADABLE: 'SCRIPT_UNREADABLE',
  /** user= names no user of this machine. */
  USER_NOT_FOUND: 'USER_NOT_FOUND',
  /** group= names no group of this machine. */
  GROUP_NOT_FOUND: 'GROUP_NOT_FOUND',
} as const;

// re-exported by src/http/http-refusal.ts
/**
 * Why a request was refused before any application saw it: a stable code (in the log line and in
 * docs/http.md), the HTTP status the client gets, and a sentence for the error page.
 */
export const RefusalCode = {
  /** The parser refused the bytes (request line, field syntax, framing): node:http's HPE_* code follows. */
  MALFORMED: 'HTTP_MALFORMED',
  /** Neither HTTP/1.0 nor HTTP/1.1. */
  VERSION: 'HTTP_VERSION_NOT_SUPPORTED',
  HOST_MISSING: 'HTTP_HOST_MISSING',
  HOST_DUPLICATE: 'HTTP_HOST_DUPLICATE',
  HOST_INVALID: 'HTTP_HOST_INVALID',
  TARGET_INVALID: 'HTTP_TARGET_INVALID',
  TARGET_ABOVE_ROOT: 'HTTP_TARGET_ABOVE_ROOT',
  TARGET_BAD_ESCAPE: 'HTTP_TARGET_BAD_ESCAPE',
  TARGET_NUL: 'HTTP_TARGET_NUL',
  ENCODED_SLASH: 'HTTP_ENCODED_SLASH',
  TRANSFER_CODING_UNKNOWN: 'HTTP_TRANSFER_CODING_UNKNOWN',
  TRANSFER_ENCODING_INVALID: 'HTTP_TRANSFER_ENCODING_INVALID',
  CONTENT_LENGTH_INVALID: 'HTTP_CONTENT_LENGTH_INVALID',
  TOO_MANY_HEADERS: 'HTTP_TOO_MANY_HEADERS',
  HEADERS_TOO_LARGE: 'HTTP_HEADERS_TOO_LARGE',
  HEADERS_TIMEOUT: 'HTTP_HEADERS_TIMEOUT',
  METHOD_NOT_ALLOWED: 'HTTP_METHOD_NOT_ALLOWED',
  BODY_TOO_LARGE: 'HTTP_BODY_TOO_LARGE',
  BODY_TIMEOUT: 'HTTP_BODY_TIMEOUT',
  BODY_TOO_SLOW: 'HTTP_BODY_TOO_SLOW',
  BODY_MALFORMED: 'HTTP_BODY_MALFORMED',
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

// re-exported by src/frontdoor/tls-errors.ts
/** Stable codes of certificate loading (docs/deploying.md). Errors refuse a start or a reload. */
export const TlsErrorCode = {
  /** A certificate, key, chain or staple file cannot be read. */
  FILE_UNREADABLE: 'TLS_FILE_UNREADABLE',
  /** The certificate file holds no PEM certificate (or a broken one). */
  BAD_CERTIFICATE: 'TLS_BAD_CERTIFICATE',
  /** The key file holds no usable PEM private key. */
  BAD_KEY: 'TLS_BAD_KEY',
  /** The key is encrypted with a passphrase; wsgi-host takes unencrypted keys (readable by root only). */
  KEY_ENCRYPTED: 'TLS_KEY_ENCRYPTED',
  /** The key is not the key of the certificate. */
  KEY_MISMATCH: 'TLS_KEY_MISMATCH',
  /** The chain file holds something that is not a PEM certificate. */
  BAD_CHAIN: 'TLS_BAD_CHAIN',
  /** The staple file is empty or not a DER OCSP response. */
  BAD_STAPLE: 'TLS_BAD_STAPLE',
  /** OpenSSL refused the settings (ciphers, versions). */
  BAD_SETTINGS: 'TLS_BAD_SETTINGS',
  /** A TLS listener with no certificate at all. */
  NO_CERTIFICATE: 'TLS_NO_CERTIFICATE',
} as const;

// re-exported by src/frontdoor/tls-errors.ts
/** Codes of warnings: the certificate loads and serves, but someone should look. */
export const TlsWarningCode = {
  EXPIRED: 'TLS_CERT_EXPIRED',
  NOT_YET_VALID: 'TLS_CERT_NOT_YET_VALID',
  EXPIRES_SOON: 'TLS_CERT_EXPIRES_SOON',
  NAME_MISMATCH: 'TLS_NAME_MISMATCH',
  CHAIN_ORDER: 'TLS_CHAIN_ORDER',
  SNI_NAME_UNUSABLE: 'TLS_SNI_NAME_UNUSABLE',
  STAPLE_OLD: 'TLS_STAPLE_OLD',
  /** A reload changed the ALPN list: servers take it when they are created. */
  ALPN_RESTART: 'TLS_ALPN_RESTART',
} as const;

// re-exported by src/frontdoor/proxy-protocol.ts
export const ProxyProtocolErrorCode = {
  /** The connection does not start with a PROXY header. */
  NOT_PROXY: 'PROXY_NOT_PROXY',
  /** A v1 line without CRLF within 107 bytes. */
  V1_TOO_LONG: 'PROXY_V1_TOO_LONG',
  /** A v1 line that breaks the grammar. */
  V1_MALFORMED: 'PROXY_V1_MALFORMED',
  /** A v2 header with a version other than 2, or a command other than LOCAL or PROXY. */
  V2_MALFORMED: 'PROXY_V2_MALFORMED',
  /** A v2 header longer than the configured cap. */
  V2_TOO_LONG: 'PROXY_V2_TOO_LONG',
  /** A v2 datagram (UDP) header on a stream listener, or an unknown family. */
  V2_UNSUPPORTED: 'PROXY_V2_UNSUPPORTED',
  /** The header did not arrive in time (the adapter). */
  TIMEOUT: 'PROXY_TIMEOUT',
  /** The connection closed before the header was whole (the adapter). */
  CLOSED: 'PROXY_CLOSED',
  /** The peer is not a trusted proxy (the adapter). */
  UNTRUSTED_PEER: 'PROXY_UNTRUSTED_PEER',
} as const;
export type ProxyProtocolErrorCode = (typeof ProxyProtocolErrorCode)[keyof typeof ProxyProtocolErrorCode];

// re-exported by src/admin/admin-errors.ts
/** Stable codes of the admin listener and of the commands that talk to it (docs/security.md). */
export const AdminErrorCode = {
  /** A non-loopback TCP admin listener without a token. */
  TOKEN_REQUIRED: 'ADMIN_TOKEN_REQUIRED',
  /** --admin-token-file cannot be read or is empty. */
  TOKEN_FILE: 'ADMIN_TOKEN_FILE',
  /** The admin listener of the configuration is off: there is nothing to talk to. */
  OFF: 'ADMIN_OFF',
  /** admin.listen has port 0: the port is only known to the server. */
  PORT_UNKNOWN: 'ADMIN_PORT_UNKNOWN',
  /** The folder of the admin socket is not private: another user could plant or swap the socket. */
  DIR_UNTRUSTED: 'ADMIN_DIR_UNTRUSTED',
  /** The private folder for admin sockets cannot be made. */
  DIR_FAILED: 'ADMIN_DIR_FAILED',
  /** The admin socket (or the process listening on the admin port) belongs to another user. */
  SOCKET_UNTRUSTED: 'ADMIN_SOCKET_UNTRUSTED',
  /** Several servers serve this configuration (on other ports): which one is meant? */
  AMBIGUOUS: 'ADMIN_AMBIGUOUS',
  /** The admin listener answered something that is not what a wsgi-host answers. */
  BAD_ANSWER: 'ADMIN_BAD_ANSWER',
  /** Another wsgi-host already serves this configuration with the same admin listener. */
  ALREADY_SERVING: 'ALREADY_SERVING',
  /** Nothing answers at the admin listener of this configuration. */
  NOT_RUNNING: 'NOT_RUNNING',
  /** An admin client went away before its request was whole (the request is dropped, never answered). */
  REQUEST_ABORTED: 'ADMIN_REQUEST_ABORTED',
} as const;

// re-exported by src/check/problem.ts
/** Stable codes of what `wsgi-host check` finds (tools and tests match on them). */
export const CheckCode = {
  ACTIVATE_THIS: 'CHECK_ACTIVATE_THIS',
  APP_IMPORT_FAILED: 'CHECK_APP_IMPORT_FAILED',
  DEFAULT_GROUP_MOUNT: 'CHECK_DEFAULT_GROUP_MOUNT',
  INTERNAL: 'CHECK_INTERNAL',
  NESTED_MOUNT: 'CHECK_NESTED_MOUNT',
  PYTHON_PATH_FAILED: 'CHECK_PYTHON_PATH_FAILED',
  PYTHON_PATH_SITE_PACKAGES: 'CHECK_PYTHON_PATH_SITE_PACKAGES',
  SHADOWED_MOUNT: 'CHECK_SHADOWED_MOUNT',
  SYS_PATH_HACK: 'CHECK_SYS_PATH_HACK',
  UNREADABLE: 'CHECK_UNREADABLE',
  UNUSED_GROUP: 'CHECK_UNUSED_GROUP',
  USER_NOT_APPLIED: 'CHECK_USER_NOT_APPLIED',
  /** An Apache directive wsgi-host does not use (a note). */
  APACHE_IGNORED: 'CHECK_APACHE_IGNORED',
  /** An Apache directive or option not honoured, which cannot let in what Apache would refuse. */
  APACHE_NOT_HONOURED: 'CHECK_APACHE_NOT_HONOURED',
  /** An Apache directive serve refuses (unless --accept-apache-differences). */
  APACHE_REFUSED: 'CHECK_APACHE_REFUSED',
  /** How an Apache configuration was translated where mod_wsgi's defaults and wsgi-host's differ. */
  APACHE_INFO: 'CHECK_APACHE_INFO',
  /** mod_wsgi would pick another mount because of the Apache declaration order. */
  MOUNT_ORDER: 'CHECK_MOUNT_ORDER',
  /** Any other warning of the configuration's translation (--host/--port over addressed virtual hosts). */
  WARNING: 'CHECK_WARNING',
} as const;

// re-exported by src/cli/main.ts
/** Stable codes of the command line itself (flags are checked as config values: CLI_BAD_FLAG). */
export const CliErrorCode = {
  UNKNOWN_COMMAND: 'CLI_UNKNOWN_COMMAND',
} as const;

// re-exported by src/cli/listen-error.ts
export const ListenErrorCode = {
  IN_USE: 'LISTEN_ADDRESS_IN_USE',
  PERMISSION: 'LISTEN_PERMISSION_DENIED',
  NOT_AVAILABLE: 'LISTEN_ADDRESS_NOT_AVAILABLE',
  HOST_NOT_FOUND: 'LISTEN_HOST_NOT_FOUND',
  FAILED: 'LISTEN_FAILED',
} as const;

/** Every table of the catalog, by its name in the code. */
export const ERROR_CODE_TABLES = {
  ConfigErrorCode,
  ApacheErrorCode,
  AccessErrorCode,
  PythonErrorCode,
  ProtocolErrorCode,
  AccessLogErrorCode,
  WorkerErrorCode,
  RefusalCode,
  TlsErrorCode,
  TlsWarningCode,
  ProxyProtocolErrorCode,
  AdminErrorCode,
  CheckCode,
  CliErrorCode,
  ListenErrorCode,
} as const;

/** A code of the catalog: any value of any table. */
export type ErrorCode = {
  [T in keyof typeof ERROR_CODE_TABLES]: (typeof ERROR_CODE_TABLES)[T][keyof (typeof ERROR_CODE_TABLES)[T]];
}[keyof typeof ERROR_CODE_TABLES];

/**
 * Codes that more than one table holds, with the tables: each means the same in all of them (a
 * log format is a value of the configuration). Any other code is in exactly one table.
 */
export const SHARED_CODES: Readonly<Record<string, readonly (keyof typeof ERROR_CODE_TABLES)[]>> = {
  CONFIG_INVALID_VALUE: ['ConfigErrorCode', 'AccessLogErrorCode'],
};

export interface CatalogEntry {
  table: keyof typeof ERROR_CODE_TABLES;
  key: string;
  code: ErrorCode;
}

/** The catalog as rows, in table order. */
export function errorCatalog(): CatalogEntry[] {
  const rows: CatalogEntry[] = [];
  for (const [table, codes] of Object.entries(ERROR_CODE_TABLES) as [keyof typeof ERROR_CODE_TABLES, Record<string, ErrorCode>][]) {
    for (const [key, code] of Object.entries(codes)) rows.push({ table, key, code });
  }
  return rows;
}
