import { WsgiHostError } from '../errors.js';

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

export class TlsError extends WsgiHostError {
  /** The file at fault, when one is. */
  readonly file: string | undefined;

  constructor(code: string, message: string, options: { file?: string; hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.file = options.file;
  }
}

export interface TlsWarning {
  code: string;
  message: string;
  file?: string;
}
