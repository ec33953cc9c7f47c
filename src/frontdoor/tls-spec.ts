import { isAbsolute, resolve } from 'node:path';
import type { CertificateFiles } from '../config/frontdoor-schema.js';
import type { ServerConfig } from '../config/schema.js';
import type { TlsListenerSpec } from './tls-contexts.js';

/**
 * The TLS spec of listener `index` of a validated configuration (undefined when it is plain HTTP):
 * its own certificate for unknown names, every [[host]] with a tls table by its names, paths made
 * absolute from the configuration's folder. ALPN defaults to http/1.1 until HTTP/2 is wired.
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
  const hosts = config.host.flatMap((h) => {
    const f = h.tls === undefined ? undefined : files(h.tls);
    return f === undefined ? [] : [{ names: [h.serverName, ...h.aliases], files: f }];
  });
  return {
    label: `listen[${index}]`,
    default: files(tls),
    hosts,
    minVersion: tls.minVersion,
    ...(tls.ciphers !== undefined ? { ciphers: tls.ciphers } : {}),
    alpn: tls.alpn ?? ['http/1.1'],
  };
}
