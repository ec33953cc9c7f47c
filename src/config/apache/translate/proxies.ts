import type { ServerConfigInput } from '../../schema.js';
import type { ProxySetting, Site } from '../directives/site.js';
import type { Where } from '../errors.js';
import type { SourceMap } from './sources.js';

/**
 * WSGITrustedProxies and WSGITrustedProxyHeaders into trusted-proxies and trusted-proxy-headers.
 *
 * - wsgi-host has one setting for the whole server. Lines at the server level and in VirtualHosts
 *   are honoured when every VirtualHost ends up with the same value (a VirtualHost's own lines
 *   replace the server level's, as mod_wsgi merges them); when they differ, none is believed, and
 *   each line says so.
 * - Headers without WSGITrustedProxies: mod_wsgi believes them from every peer; so does wsgi-host
 *   (0.0.0.0/0 and ::/0), and a note says how to name the proxies.
 * - Apache checks Require ip (and Allow from, Require local) against the connection's peer, the
 *   proxy: mod_wsgi's trusted headers change only the WSGI environ. wsgi-host checks the client the
 *   trusted proxy names (as Apache with mod_remoteip does). With a client-address header and such a
 *   rule, the meaning of the rule changes, so the configuration is refused (the security model).
 */
export function buildProxies(site: Site, config: ServerConfigInput, src: SourceMap): void {
  const headers = effective(site, site.trustedProxyHeaders, 'WSGITrustedProxyHeaders');
  const proxies = effective(site, site.trustedProxies, 'WSGITrustedProxies');
  if (proxies !== undefined && proxies.value.length > 0) {
    config.trustedProxies = proxies.value;
    src.set(['trustedProxies'], proxies.at);
  }
  if (headers === undefined || headers.value.length === 0) return;
  config.trustedProxyHeaders = headers.value;
  src.set(['trustedProxyHeaders'], headers.at);
  if (proxies === undefined || proxies.value.length === 0) {
    config.trustedProxies = ['0.0.0.0/0', '::/0'];
    src.set(['trustedProxies'], headers.at);
    site.notes.add(
      'info',
      'WSGITrustedProxyHeaders without WSGITrustedProxies: as mod_wsgi, wsgi-host believes those headers from every peer (trusted-proxies 0.0.0.0/0 and ::/0), so a client that reaches it directly sets its own REMOTE_ADDR. Name the proxies with WSGITrustedProxies.',
      headers.at,
    );
  }
  const clientHeader = headers.value.find((h) => h === 'X-Forwarded-For' || h === 'X-Client-IP' || h === 'X-Real-IP');
  const rule = clientHeader === undefined ? undefined : addressRule(site);
  if (clientHeader !== undefined && rule !== undefined) {
    site.notes.refuse(
      `WSGITrustedProxyHeaders ${clientHeader} with an access rule by address (${rule.text}, ${rule.at.file}:${rule.at.line}): Apache checks that rule against the proxy's address (mod_wsgi's trusted headers change only the WSGI environ), wsgi-host against the client the trusted proxy names (as Apache with mod_remoteip). Check that the rule means what you want for the clients' addresses, then accept the difference (--accept-apache-differences), or write the configuration as TOML.`,
      headers.at,
    );
  }
}

/** The one value for the whole server, or undefined (none set, or VirtualHosts disagree: noted). */
function effective(site: Site, lines: ProxySetting[], name: string): { value: string[]; at: Where } | undefined {
  if (lines.length === 0) return undefined;
  const joined = (place: ProxySetting['place']): { value: string[]; at: Where } | undefined => {
    const own = lines.filter((l) => l.place === place);
    if (own.length === 0) return undefined;
    return { value: [...new Set(own.flatMap((l) => l.value))], at: (own[0] as ProxySetting).at };
  };
  const server = joined('server');
  const perHost = site.hosts.map((h) => joined(h.index) ?? server);
  const candidates = site.hosts.length === 0 ? [server] : perHost;
  const key = (v: { value: string[] } | undefined): string => JSON.stringify(v === undefined ? [] : [...v.value].sort());
  const first = candidates[0];
  if (candidates.every((c) => key(c) === key(first))) return first ?? undefined;
  for (const l of lines) {
    site.notes.add(
      'not-honoured',
      `${name} differs between VirtualHosts; wsgi-host believes proxy headers for the whole server, so it believes none: the applications see the proxy's address and the headers as sent. Give every VirtualHost the same ${name} (or set it once at the server level).`,
      l.at,
    );
  }
  return undefined;
}

/** The first access line that decides by the client's address, anywhere in the configuration. */
function addressRule(site: Site): { text: string; at: Where } | undefined {
  for (const scope of site.scopes) {
    for (const d of scope.directives) {
      const name = d.name.toLowerCase();
      const args = d.args.map((a) => a.toLowerCase());
      const words = args[0] === 'not' ? args.slice(1) : args;
      const byAddress =
        (name === 'require' && (words[0] === 'ip' || words[0] === 'local')) ||
        ((name === 'allow' || name === 'deny') && args[0] === 'from' && args.slice(1).some((a) => a !== 'all' && !a.startsWith('env=')));
      if (byAddress) return { text: `${d.name} ${d.args.join(' ')}`, at: { file: d.file, line: d.line } };
    }
  }
  return undefined;
}
