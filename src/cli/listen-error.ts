import { WsgiHostError } from '../errors.js';
import { ListenErrorCode } from '../error-codes.js';
export { ListenErrorCode } from '../error-codes.js';

/** A listener that could not be opened: the address, why, and what to do. */
export class ListenError extends WsgiHostError {}

interface SystemError extends NodeJS.ErrnoException {
  address?: string;
  port?: number;
  hostname?: string;
}

function where(e: SystemError): string {
  if (e.address === undefined) return e.hostname ?? 'the address';
  const host = e.address.includes(':') ? `[${e.address}]` : e.address;
  return e.port !== undefined && e.port > 0 ? `${host}:${e.port}` : host;
}

/** Node's listen and lookup errors as ours (undefined for anything else). */
export function listenError(err: unknown): ListenError | undefined {
  if (err instanceof WsgiHostError) return undefined;
  const e = err as SystemError;
  if (e === null || typeof e !== 'object' || typeof e.code !== 'string') return undefined;
  const port = e.port !== undefined && e.port > 0 ? e.port : undefined;
  switch (e.code) {
    case 'EADDRINUSE':
      return new ListenError(
        ListenErrorCode.IN_USE,
        `cannot listen on ${where(e)}: the address is already in use (another server, or another wsgi-host, listens there)`,
        {
          cause: err,
          hint: `Stop what listens there (ss -ltnp${port ? ` 'sport = :${port}'` : ''} shows it), or choose another port: --port ${port ? port + 1 : 8001} (--port 0 picks a free one)`,
        },
      );
    case 'EACCES':
    case 'EPERM':
      if (e.syscall !== 'listen' && e.syscall !== 'bind') return undefined;
      return new ListenError(
        ListenErrorCode.PERMISSION,
        `cannot listen on ${where(e)}: permission denied${port !== undefined && port < 1024 ? ` (ports below 1024 need root or the CAP_NET_BIND_SERVICE capability)` : ''}`,
        {
          cause: err,
          hint:
            port !== undefined && port < 1024
              ? 'Use a port from 1024 up (--port 8000), start wsgi-host as root (with user= for the groups), or allow node to bind low ports: setcap cap_net_bind_service=+ep "$(readlink -f "$(command -v node)")"'
              : 'Check the address and what is allowed to listen on it (a security module or a firewall rule)',
        },
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(ListenErrorCode.NOT_AVAILABLE, `cannot listen on ${where(e)}: no network interface of this machine has that address`, {
        cause: err,
        hint: 'Use an address of this machine (ip -brief address lists them): 127.0.0.1 for this machine only, 0.0.0.0 for every interface',
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      if (e.syscall !== 'getaddrinfo') return undefined;
      return new ListenError(
        ListenErrorCode.HOST_NOT_FOUND,
        `cannot listen on '${e.hostname ?? '?'}': the host name does not resolve to an address (${e.code})`,
        {
          cause: err,
          hint: 'Give --host an IP address (127.0.0.1, 0.0.0.0, ::1) or a name this machine resolves (/etc/hosts)',
        },
      );
    default:
      if (e.syscall !== 'listen' && e.syscall !== 'bind') return undefined;
      return new ListenError(ListenErrorCode.FAILED, `cannot listen on ${where(e)}: ${e.message}`, { cause: err, hint: 'Check --host and --port' });
  }
}
