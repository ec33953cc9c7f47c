import { WsgiHostError } from '../errors.js';
import type { TargetError } from './request-target.js';
import { RefusalCode } from '../error-codes.js';
export { RefusalCode } from '../error-codes.js';

/** A request wsgi-host answers itself, with `status`, and after which it closes the connection. */
export class RequestRefusal extends WsgiHostError {
  override readonly code: RefusalCode;
  readonly status: number;

  constructor(code: RefusalCode, status: number, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.code = code;
    this.status = status;
  }
}

/** The sentence on the error page for a status wsgi-host answers itself about a request. */
export const REFUSAL_EXPLANATIONS: Readonly<Record<number, string>> = {
  400: 'The request is malformed.',
  404: 'The requested URL was not found on this server.',
  405: 'This server does not support this method.',
  408: 'The request took too long to arrive.',
  413: 'The request body is larger than this server accepts.',
  431: 'The request headers are larger than this server accepts.',
  501: 'The request uses a transfer coding this server does not support.',
  505: 'This server speaks HTTP/1.0 and HTTP/1.1 only.',
};

/** How a node:http parser error is answered (after every response before it). */
export function parserRefusal(err: NodeJS.ErrnoException & { reason?: string }): RequestRefusal {
  const what = `${err.code ?? 'parse error'}${err.reason ? `: ${err.reason}` : ''}`;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new RequestRefusal(RefusalCode.HEADERS_TOO_LARGE, 431, `the request line and headers are larger than max-header-size (${what})`);
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new RequestRefusal(RefusalCode.BODY_MALFORMED, 413, `chunk extensions too large (${what})`);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RequestRefusal(RefusalCode.HEADERS_TIMEOUT, 408, 'the request headers did not arrive within header-timeout');
    default:
      return new RequestRefusal(RefusalCode.MALFORMED, 400, what);
  }
}

/** What a normalization failure of the path becomes. */
export function targetRefusal(e: TargetError): RequestRefusal {
  switch (e) {
    case 'encoded-slash':
      return new RequestRefusal(RefusalCode.ENCODED_SLASH, 404, 'an encoded slash (%2F) in the path (allow-encoded-slashes is off)');
    case 'above-root':
      return new RequestRefusal(RefusalCode.TARGET_ABOVE_ROOT, 400, 'the path climbs above the root with ..');
    case 'bad-escape':
      return new RequestRefusal(RefusalCode.TARGET_BAD_ESCAPE, 400, 'a malformed %-escape in the path');
    case 'nul':
      return new RequestRefusal(RefusalCode.TARGET_NUL, 400, 'an encoded NUL (%00) in the path');
    default:
      return new RequestRefusal(RefusalCode.TARGET_INVALID, 400, 'the request-target is not a path');
  }
}
