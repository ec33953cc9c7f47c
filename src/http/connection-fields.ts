import type { ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { canonicalAddress } from '../util/ip-address.js';
import type { HttpRequest } from './message.js';

/**
 * Request facts that are not headers, for the environ mod_wsgi gives (SERVER_ADDR,
 * mod_wsgi.listener_host/port, mod_wsgi.request_start) and the variables mod_ssl and mod_http2
 * add (SSL_TLS_SNI; HTTP2, H2PUSH, H2_STREAM_ID...). They travel in the REQUEST payload before
 * the headers as pseudo-fields whose names start with ':', which no HTTP/1 header name can
 * (docs/protocol.md); the worker's build_environ reads them.
 */
export class ConnectionFields {
  /** 'address:port' of the listeners bound to one address (not 0.0.0.0 or ::). */
  private readonly specific = new Set<string>();
  /** The fields of a connection that do not change from one request to the next. */
  private readonly byConnection = new WeakMap<Socket, string>();
  /** Connections numbered for H2_STREAM_TAG. */
  private connections = 0;

  /** A listener is bound: remember whether it names an address (mod_wsgi.listener_host) or all of them (''). */
  listening(host: string, bound: AddressInfo): void {
    if (host !== '0.0.0.0' && host !== '::' && host !== '' && host !== '*') this.specific.add(`${canonicalAddress(bound.address)}:${bound.port}`);
  }

  /** The pseudo-fields of a request, each preceded by NUL. */
  fields(req: HttpRequest): string {
    // An HTTP/2 request's socket is a view made per stream: the connection is the session's.
    const stream = (req as { stream?: ServerHttp2Stream }).stream;
    const socket = stream?.session?.socket ?? req.socket;
    let fixed = this.byConnection.get(socket);
    if (fixed === undefined) {
      const local = canonicalAddress(socket.localAddress ?? '');
      const port = String(socket.localPort ?? '');
      const listener = this.specific.has(`${local}:${port}`) ? local : '';
      const sni = sniForEnviron((socket as TLSSocket).servername);
      // mod_ssl sets SSL_TLS_SNI whenever the client sent a name (without SSLOptions +StdEnvVars).
      const tls = sni !== undefined ? `\0:env:SSL_TLS_SNI\0${sni}` : '';
      // mod_http2's variables (no server push here: H2PUSH off); H2_STREAM_TAG starts with the connection's number.
      const h2 =
        stream === undefined
          ? ''
          : `\0:env:HTTP2\0on\0:env:H2PUSH\0off\0:env:H2_PUSH\0off\0:env:H2_PUSHED\0\0:env:H2_PUSHED_ON\0\0:env:H2_STREAM_TAG\0${++this.connections}-0-`;
      fixed = `\0:server-addr\0${local}\0:listener-host\0${listener}\0:listener-port\0${port}${tls}${h2}`;
      this.byConnection.set(socket, fixed);
    }
    // An HTTP/2 stream's own: its id ends H2_STREAM_TAG (connection-0-stream) and is H2_STREAM_ID.
    const own = stream === undefined ? '' : `${stream.id}\0:env:H2_STREAM_ID\0${stream.id}`;
    return `${fixed}${own}\0:request-start\0${Math.round((performance.timeOrigin + performance.now()) * 1000)}`;
  }
}

/**
 * The client's SNI name as the application may see it (SSL_TLS_SNI), or undefined. The name comes
 * from the client: only a host name's bytes (printable ASCII without spaces, up to 255; IDNs travel
 * as punycode) go into the REQUEST payload, whose fields are separated by NUL.
 */
export function sniForEnviron(name: unknown): string | undefined {
  return typeof name === 'string' && /^[\x21-\x7e]{1,255}$/.test(name) ? name : undefined;
}
