import type { AdminAddress, AdminListen } from './admin-address.js';
import { type AutoSocketName, autoSocketForServe, findAutoSocket } from './auto-socket.js';

/** The admin listener of a configuration, as both `serve` and the commands that talk to it see it. */
export interface AdminTarget {
  listen: AdminListen;
  /** The automatic socket's name, used when listen is 'auto'. */
  name: AutoSocketName;
  token: string | undefined;
  /** 'site.toml', 'command-line flags': for messages. */
  label: string;
}

/** `serve`: the address to listen on ('auto' becomes a socket in the private runtime folder). */
export function serveAddress(t: AdminTarget): AdminAddress {
  return t.listen.kind === 'auto' ? { kind: 'unix', path: autoSocketForServe(t.name) } : t.listen;
}

/** `reload`, `status`: the address of the running server ('auto' is looked up, and checked). */
export async function clientAddress(t: AdminTarget): Promise<AdminAddress> {
  return t.listen.kind === 'auto' ? { kind: 'unix', path: await findAutoSocket(t.name, t.label) } : t.listen;
}

/** The fix when another server already answers on the admin socket. */
export function alreadyServingHint(t: AdminTarget): string {
  return t.listen.kind === 'auto'
    ? `Stop it first, or reload it (wsgi-host reload with the same configuration). To serve the same configuration a second time, ` +
        `give it other listeners with --port (and --host): it then gets an admin socket of its own; or give it its own --admin PATH|HOST:PORT|off`
    : 'Stop it first, or reload it (wsgi-host reload with the same configuration), or give this server another --admin PATH|HOST:PORT|off';
}
