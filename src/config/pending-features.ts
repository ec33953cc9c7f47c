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
  const proxy = 'Terminate it in a proxy in front of wsgi-host for now (docs/deploying.md), and remove the key';
  config.listen.forEach((l, i) => {
    if (l.tls !== undefined) pending(['listen', i, 'tls'], 'TLS on a listener', proxy);
  });
  config.host.forEach((h, i) => {
    if (h.tls !== undefined) pending(['host', i, 'tls'], 'A certificate per host', proxy);
    if (h.redirectToHttps) pending(['host', i, 'redirectToHttps'], 'The redirect to HTTPS', 'Redirect in the proxy in front, and remove the key');
  });
}
