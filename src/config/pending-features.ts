import { ConfigError, ConfigErrorCode as C } from './errors.js';
import type { ServerConfig } from './schema.js';

/**
 * Front-door keys the model accepts whose serving is not wired into the HTTP layer yet (the
 * building blocks are in src/frontdoor/). Until it is, a configuration that uses one is refused:
 * a `tls` listener that spoke plain HTTP, or proxy headers passed on unchecked, would be a silent
 * and unsafe misconfiguration. Each wiring step removes its line here.
 */
export function refusePendingFeatures(config: ServerConfig): void {
  const pending = (path: (string | number)[], what: string, fix: string): never => {
    throw new ConfigError(C.NOT_SERVED_YET, `${what} is not served by this version of wsgi-host yet`, { path, hint: fix });
  };
  config.listen.forEach((l, i) => {
    if (l.proxyProtocol) pending(['listen', i, 'proxyProtocol'], 'The PROXY protocol', 'Have the proxy send X-Forwarded-For instead, or remove the key');
  });
  if (config.trustedProxyHeaders.length > 0) {
    pending(
      ['trustedProxyHeaders'],
      'Rewriting REMOTE_ADDR and the scheme from trusted proxy headers',
      'Remove the key; until then the headers reach the application unchanged, as they do without it',
    );
  }
  const mounts = [
    ...config.mount.map((m, i) => ({ m, path: ['mount', i] })),
    ...config.host.flatMap((h, hi) => h.mount.map((m, i) => ({ m, path: ['host', hi, 'mount', i] }))),
  ];
  const statics = [
    ...config.static.map((m, i) => ({ m, path: ['static', i] })),
    ...config.host.flatMap((h, hi) => h.static.map((m, i) => ({ m, path: ['host', hi, 'static', i] }))),
  ];
  for (const { m, path } of [...mounts, ...statics]) {
    if (m.compress !== undefined) pending([...path, 'compress'], 'Response compression', 'Compress in the proxy in front, and remove the key');
  }
}
