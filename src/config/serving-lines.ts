import type { AddressInfo } from 'node:net';
import type { ServePlan } from './plan.js';

export interface ServingLine {
  /** The listener: http://ADDRESS:PORT (https:// with TLS). */
  listen: string;
  /** The URL that answers: the listener (or a virtual host's name) with a mount's prefix. */
  url: string;
  /** What answers there, when there is more than one thing to tell apart. */
  what: string | undefined;
}

/**
 * The startup lines: for each listener, the URL of each mount (its prefix, as the browser needs
 * it), static alias and virtual host. One mount at /cal on 127.0.0.1:8123 is one line,
 * "http://127.0.0.1:8123/cal/": the URL that answers, never a bare / that would be a 404.
 */
export function servingLines(plan: ServePlan, addresses: AddressInfo[]): ServingLine[] {
  const routes: { host: number | undefined; prefix: string; what: string }[] = [
    ...plan.mounts.map((m) => ({ host: m.host, prefix: m.prefix, what: `group ${plan.pools.find((p) => p.key === m.pool)?.label ?? '?'}` })),
    ...plan.statics.map((s) => ({ host: s.host, prefix: s.prefix, what: `static files from ${s.directory}` })),
  ].sort((a, b) => (a.host ?? -1) - (b.host ?? -1) || a.prefix.localeCompare(b.prefix));
  const several = routes.length > 1;
  const out: ServingLine[] = [];
  addresses.forEach((a, i) => {
    const address = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    // addresses are the configuration's listeners, in order.
    const scheme = plan.config.listen[i]?.tls === undefined ? 'http' : 'https';
    const listen = `${scheme}://${address}:${a.port}`;
    for (const r of routes) {
      const host = r.host === undefined ? undefined : plan.hosts[r.host];
      const origin = host === undefined ? listen : `${scheme}://${host.serverName}:${a.port}`;
      const notes = [several ? r.what : undefined, host === undefined ? undefined : `virtual host ${host.serverName} on ${listen}`].filter(
        (x) => x !== undefined,
      );
      out.push({ listen, url: `${origin}${r.prefix}/`, what: notes.length ? notes.join('; ') : undefined });
    }
    if (routes.length === 0) out.push({ listen, url: `${listen}/`, what: undefined });
  });
  return out;
}
