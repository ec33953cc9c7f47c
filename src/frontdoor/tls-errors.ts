import { WsgiHostError } from '../errors.js';
export { TlsErrorCode, TlsWarningCode } from '../error-codes.js';

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
