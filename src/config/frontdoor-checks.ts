import { ConfigError, ConfigErrorCode as C } from './errors.js';
import type { ServerConfig } from './schema.js';

/**
 * Front-door settings that are valid one by one but not together. Whom a proxy header or a PROXY
 * protocol header is believed from must be said: trusting every peer by default, as mod_wsgi does
 * without WSGITrustedProxies, would let any client that reaches wsgi-host directly choose its own
 * REMOTE_ADDR (and pass `Require ip`).
 */
export function checkFrontDoor(config: ServerConfig): void {
  if (config.trustedProxies.length > 0) return;
  const everyPeer = 'or trusted-proxies = ["0.0.0.0/0", "::/0"] to believe every peer, only when no client can reach wsgi-host but through the proxy';
  config.listen.forEach((l, i) => {
    if (l.proxyProtocol) {
      throw new ConfigError(C.INVALID_VALUE, `listen[${i}] speaks the PROXY protocol, but trusted-proxies names no proxy it may come from`, {
        path: ['listen', i, 'proxyProtocol'],
        hint: `List the proxies' addresses: trusted-proxies = ["10.0.0.5"] (a PROXY header from any other peer is refused), ${everyPeer}`,
      });
    }
  });
  if (config.trustedProxyHeaders.length > 0) {
    throw new ConfigError(C.INVALID_VALUE, 'trusted-proxy-headers is set, but trusted-proxies names no proxy they are believed from', {
      path: ['trustedProxyHeaders'],
      hint: `List the proxies' addresses: trusted-proxies = ["10.0.0.5"] (from any other peer those headers are removed), ${everyPeer}`,
    });
  }
}
