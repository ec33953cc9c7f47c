import { isAbsolute, resolve } from 'node:path';
import type { CertificateFiles } from '../config/frontdoor-schema.js';
import type { ServerConfig } from '../config/schema.js';
import type { TlsListenerSpec } from './tls-contexts.js';

/**
 * The TLS spec of listener `index` of a validated configuration (undefined when it is plain HTTP):
 * its own certificate for unknown names, every [[host]] with a tls table that the listener reaches
 * (no addresses, or one of its port) by its names, paths made absolute from the configuration's
 * folder. ALPN defaults to h2, then http/1.1.
 */
export function tlsListenerSpec(config: ServerConfig, index: number, baseDir: string): TlsListenerSpec | undefined {
  const tls = config.listen[index]?.tls;
  if (tls === undefined) return undefined;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const files = (f: { [K in keyof CertificateFiles]?: CertificateFiles[K] | undefined }): CertificateFiles | undefined =>
    f.certificate === undefined || f.privateKey === undefined
      ? undefined
      : {
          certificate: abs(f.certificate),
          privateKey: abs(f.privateKey),
          ...(f.certificateChain !== undefined ? { certificateChain: abs(f.certificateChain) } : {}),
          ...(f.ocspStaple !== undefined ? { ocspStaple: abs(f.ocspStaple) } : {}),
        };
  // The hosts this listener can reach: those declared for its port (or for every address).
  const port = config.listen[index]?.port;
  const reached = (addresses: readonly string[] | undefined): boolean =>
    addresses === undefined || addresses.length === 0 || addresses.some((a) => /:\*$/.test(a) || a.endsWith(`:${port}`));
  const hosts = config.host.flatMap((h) => {
    const f = h.tls === undefined || !reached(h.addresses) ? undefined : files(h.tls);
    return f === undefined ? [] : [{ names: [h.serverName, ...h.aliases], files: f }];
  });
  return {
    label: `listen[${index}]`,
    default: files(tls),
    hosts,
    minVersion: tls.minVersion,
    ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers } : {}),
    alpn: tls.alpn ?? ['h2', 'http/1.1'],
  };
}
