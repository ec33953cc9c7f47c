import { canonicalAddress } from '../util/ip-address.js';
import { parseVhostAddress } from '../util/host-port.js';
import { hostNameOf } from './host-header.js';

/**
 * Which virtual host answers a request, as Apache chooses (pure: no I/O).
 *
 * 1. By address: the virtual hosts declared for the exact address the connection arrived on (its
 *    local IP and port; a host's address without a port covers every port) take it. If there are
 *    none, those declared for `*` or `_default_` with that port (or any port). If there are none
 *    either, no virtual host does: the main server (the top-level mounts alone) answers.
 * 2. By name, within that set only: the first whose name or alias matches the Host header (port and
 *    case ignored, `*` and `?` wildcards in aliases). No match, or no Host header: the set's default,
 *    the host marked `default` if it is in the set, else the set's first (Apache's rule).
 *
 * A host without addresses is declared for `*:*`: every connection, as name-based hosting.
 */

export interface VhostSpec {
  /** The name, then the aliases; `*` and `?` wildcards allowed. */
  names: string[];
  /** Undefined or empty: `*:*`. */
  addresses?: readonly string[] | undefined;
  default?: boolean;
}

/** The main server answers (no virtual host matches the connection's address). */
export const MAIN_SERVER = -1;

interface Chain {
  ip: string;
  port: number | '*';
  hosts: number[];
}

export class VhostTable {
  private readonly exact: Chain[] = [];
  private readonly wildcard: Chain[] = [];
  private readonly names: { exact: Set<string>; wildcards: RegExp[] }[];
  private readonly defaults: boolean[];

  constructor(hosts: readonly VhostSpec[]) {
    this.names = hosts.map((h) => ({
      exact: new Set(h.names.filter((n) => !/[*?]/.test(n)).map((n) => n.toLowerCase())),
      wildcards: h.names.filter((n) => /[*?]/.test(n)).map(nameWildcard),
    }));
    this.defaults = hosts.map((h) => h.default === true);
    hosts.forEach((h, index) => {
      const addresses = h.addresses !== undefined && h.addresses.length > 0 ? h.addresses : ['*:*'];
      for (const text of addresses) {
        const a = parseVhostAddress(text);
        if (typeof a === 'string') throw new Error(a);
        const list = a.ip === '*' ? this.wildcard : this.exact;
        const chain = list.find((c) => c.ip === a.ip && c.port === a.port);
        if (chain === undefined) list.push({ ip: a.ip, port: a.port, hosts: [index] });
        else if (!chain.hosts.includes(index)) chain.hosts.push(index);
      }
    });
  }

  /** The host index for a connection's local address and port and the Host header; MAIN_SERVER if none. */
  select(localAddress: string, localPort: number, hostHeader: string | undefined): number {
    const set = this.addressSet(canonicalAddress(localAddress), localPort);
    if (set === undefined) return MAIN_SERVER;
    if (set.length > 1 && hostHeader !== undefined) {
      const name = hostNameOf(hostHeader);
      for (const i of set) {
        const n = this.names[i] as (typeof this.names)[number];
        if (n.exact.has(name) || n.wildcards.some((w) => w.test(name))) return i;
      }
    }
    return set.find((i) => this.defaults[i]) ?? (set[0] as number);
  }

  /** The hosts declared for the connection's address, in declaration order. */
  private addressSet(ip: string, port: number): number[] | undefined {
    const find = (list: Chain[], wantIp: string): number[] | undefined =>
      (list.find((c) => c.ip === wantIp && c.port === port) ?? list.find((c) => c.ip === wantIp && c.port === '*'))?.hosts;
    return find(this.exact, ip) ?? find(this.wildcard, '*');
  }
}

function nameWildcard(pattern: string): RegExp {
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}
