/**
 * The headers a trusted proxy may use to tell what the client's connection was, by purpose, as
 * mod_wsgi's WSGITrustedProxyHeaders takes them, plus RFC 7239 `Forwarded` (which carries the
 * address, the scheme and the host at once). One header per purpose: with two, which one wins
 * would depend on the order the proxy wrote them, so the config model refuses that.
 */

export type ProxyPurpose = 'client-address' | 'scheme' | 'host' | 'port' | 'server-name' | 'script-name';

export const PROXY_HEADERS: Readonly<Record<string, readonly ProxyPurpose[]>> = {
  'X-Forwarded-For': ['client-address'],
  'X-Client-IP': ['client-address'],
  'X-Real-IP': ['client-address'],
  'X-Forwarded-Proto': ['scheme'],
  'X-Forwarded-Scheme': ['scheme'],
  'X-Scheme': ['scheme'],
  'X-Forwarded-HTTPS': ['scheme'],
  'X-Forwarded-SSL': ['scheme'],
  'X-HTTPS': ['scheme'],
  'X-Forwarded-Host': ['host'],
  'X-Host': ['host'],
  'X-Forwarded-Port': ['port'],
  'X-Forwarded-Server': ['server-name'],
  'X-Script-Name': ['script-name'],
  'X-Forwarded-Script-Name': ['script-name'],
  Forwarded: ['client-address', 'scheme', 'host'],
};

const BY_LOWER = new Map(Object.keys(PROXY_HEADERS).map((h) => [h.toLowerCase(), h]));

/** The catalog's spelling of a header name (any case), or undefined when it is not one. */
export function proxyHeaderName(name: string): string | undefined {
  return BY_LOWER.get(name.trim().toLowerCase());
}

/** The headers (catalog spelling, lower case) that serve a purpose. */
export function headersFor(purpose: ProxyPurpose): string[] {
  return Object.entries(PROXY_HEADERS)
    .filter(([, p]) => p.includes(purpose))
    .map(([h]) => h.toLowerCase());
}

/** Why a list of trusted headers is refused (two for one purpose), or undefined. */
export function proxyHeadersConflict(headers: readonly string[]): string | undefined {
  const seen = new Map<ProxyPurpose, string>();
  for (const h of headers) {
    for (const p of PROXY_HEADERS[h] ?? []) {
      const other = seen.get(p);
      if (other !== undefined && other !== h) return `${other} and ${h} both give the ${p}: list one of them, the one your proxy always sets`;
      seen.set(p, h);
    }
  }
  return undefined;
}
