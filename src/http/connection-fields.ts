import type { AddressInfo, Socket } from 'node:net';
import { canonicalAddress } from '../util/ip-address.js';

/**
 * Request facts that are not headers, for the environ mod_wsgi gives (SERVER_ADDR,
 * mod_wsgi.listener_host/port, mod_wsgi.request_start). They travel in the REQUEST payload
 * before the headers as pseudo-fields whose names start with ':', which no HTTP/1 header name
 * can (docs/protocol.md); the worker's build_environ reads them.
 */
export class ConnectionFields {
  /** 'address:port' of the listeners bound to one address (not 0.0.0.0 or ::). */
  private readonly specific = new Set<string>();
  /** The fields of a connection that do not change from one request to the next. */
  private readonly byConnection = new WeakMap<Socket, string>();

  /** A listener is bound: remember whether it names an address (mod_wsgi.listener_host) or all of them (''). */
  listening(host: string, bound: AddressInfo): void {
    if (host !== '0.0.0.0' && host !== '::' && host !== '' && host !== '*') this.specific.add(`${canonicalAddress(bound.address)}:${bound.port}`);
  }

  /** The pseudo-fields of a request arriving on `socket`, each preceded by NUL. */
  fields(socket: Socket): string {
    let fixed = this.byConnection.get(socket);
    if (fixed === undefined) {
      const local = canonicalAddress(socket.localAddress ?? '');
      const port = String(socket.localPort ?? '');
      const listener = this.specific.has(`${local}:${port}`) ? local : '';
      fixed = `\0:server-addr\0${local}\0:listener-host\0${listener}\0:listener-port\0${port}\0:request-start\0`;
      this.byConnection.set(socket, fixed);
    }
    return fixed + Math.round((performance.timeOrigin + performance.now()) * 1000);
  }
}
