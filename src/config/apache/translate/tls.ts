import type { z } from 'zod';
import type { ListenerTlsSchema } from '../../frontdoor-schema.js';
import type { ServerConfigInput } from '../../schema.js';
import type { Site, SslDecl } from '../directives/site.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import type { HostPlan } from './hosts.js';
import type { SourceMap } from './sources.js';

/**
 * mod_ssl's meaning in the model. A <VirtualHost> with SSLEngine on (its own, or the server
 * level's it inherits, as mod_ssl merges it) gets its certificate as host.tls, chosen by SNI; every
 * listener of its port speaks TLS, with the SSLProtocol, SSLCipherSuite and Protocols of the first
 * such VirtualHost of that port (whose certificate, as in Apache, is the one for clients that send
 * no name). With SSLEngine on at the server level and no VirtualHost on a listener's port, the
 * main server's certificate serves that listener.
 */

type ListenerTlsInput = z.input<typeof ListenerTlsSchema>;
type ListenerInput = { host?: string; port?: number; tls?: ListenerTlsInput };

/** A VirtualHost's settings over the server level's (mod_ssl's merge). */
function merged(host: SslDecl, server: SslDecl): SslDecl {
  return {
    engine: host.engine ?? server.engine,
    certificate: host.certificate ?? server.certificate,
    key: host.key ?? server.key,
    chain: host.chain ?? server.chain,
    protocol: host.protocol ?? server.protocol,
    ciphers: host.ciphers ?? server.ciphers,
    protocols: host.protocols ?? server.protocols,
    requireSsl: host.requireSsl,
  } as SslDecl;
}

const portOf = (address: string): string => address.slice(address.lastIndexOf(':') + 1);

export function buildTls(site: Site, plan: HostPlan, config: ServerConfigInput, src: SourceMap): void {
  const listeners = (config.listen ?? []) as ListenerInput[];
  const onPort = (port: number | undefined, addresses: string[]): boolean => addresses.some((a) => portOf(a) === '*' || Number(portOf(a)) === port);
  const hostSsl = plan.hosts.map((h) => {
    const ssl = merged((h.decls[0] as (typeof h.decls)[number]).ssl, site.ssl);
    return ssl.engine?.value === true ? ssl : undefined;
  });
  const secureListener = listeners.map(() => false);
  listeners.forEach((l, j) => {
    const here = plan.hosts.map((h, i) => ({ h, i })).filter(({ h }) => onPort(l.port, h.addresses));
    const secure = here.filter(({ i }) => hostSsl[i] !== undefined);
    let ssl: SslDecl | undefined;
    let own: ListenerTlsInput = {};
    if (here.length === 0 && site.ssl.engine?.value === true) {
      // The main server answers this listener: its own certificate.
      ssl = site.ssl;
      own = certificateFiles(site.ssl, 'the server configuration');
    } else if (secure.length > 0) {
      const first = hostSsl[(secure[0] as { i: number }).i] as SslDecl;
      ssl = first;
      if (secure.length < here.length) {
        const plain = here.filter(({ i }) => hostSsl[i] === undefined).map(({ h }) => `<VirtualHost ${h.addresses.join(' ')}> (${h.serverName.value})`);
        site.notes.add(
          'not-honoured',
          `Port ${l.port} has VirtualHosts with SSLEngine on and without it (${plain.join(', ')}): a connection to the port speaks TLS for all of them in wsgi-host, as the first VirtualHost of the port decides in Apache; give each SSLEngine on.`,
          (first.engine as NonNullable<SslDecl['engine']>).at,
        );
      }
    }
    if (ssl === undefined) return;
    l.tls = { ...own, ...tlsSettings(ssl, site) };
    secureListener[j] = true;
    src.set(['listen', j, 'tls'], (ssl.engine as NonNullable<SslDecl['engine']>).at);
  });
  const hosts = config.host ?? [];
  plan.hosts.forEach((h, i) => {
    const ssl = hostSsl[i];
    const decl = h.decls[0] as (typeof h.decls)[number];
    const label = `<VirtualHost ${decl.address}>`;
    if (ssl === undefined) {
      for (const at of decl.ssl.requireSsl) {
        site.notes.refuse(
          `SSLRequireSSL in a section of ${label} is not honoured: that VirtualHost has no SSLEngine on, so its requests arrive over plain HTTP, and wsgi-host cannot refuse them per folder. Give it SSLEngine on (or serve it only over TLS), and remove the line.`,
          at,
        );
      }
      return;
    }
    if (!listeners.some((l, j) => secureListener[j] && onPort(l.port, h.addresses))) {
      site.notes.add(
        'info',
        `${label} has SSLEngine on, but no Listen covers its port: its certificate is not used.`,
        (ssl.engine as NonNullable<SslDecl['engine']>).at,
      );
      return;
    }
    const out = hosts[i];
    if (out === undefined) return;
    const files = certificateFiles(ssl, label);
    out.tls = files as NonNullable<typeof out.tls>;
    const at = (ssl.certificate as NonNullable<SslDecl['certificate']>).at;
    src.set(['host', i, 'tls'], at);
    src.set(['host', i, 'tls', 'certificate'], at);
    src.set(['host', i, 'tls', 'privateKey'], (ssl.key ?? ssl.certificate)?.at ?? at);
    if (ssl.chain !== undefined) src.set(['host', i, 'tls', 'certificateChain'], ssl.chain.at);
  });
  // SSLRequireSSL in sections of the server level covers every host: honoured when every listener speaks TLS.
  if (site.ssl.requireSsl.length > 0 && !secureListener.every((s) => s)) {
    for (const at of site.ssl.requireSsl) {
      site.notes.refuse(
        'SSLRequireSSL at the server level is not honoured: some listener speaks plain HTTP, and wsgi-host cannot refuse its requests per folder. Serve every VirtualHost with SSLEngine on, or move the line into the VirtualHosts that have it.',
        at,
      );
    }
  }
}

/** SSLCertificateFile (required), SSLCertificateKeyFile (else the certificate file holds the key), SSLCertificateChainFile. */
function certificateFiles(ssl: SslDecl, label: string): { certificate: string; privateKey: string; certificateChain?: string } {
  if (ssl.certificate === undefined) {
    const at = (ssl.engine as NonNullable<SslDecl['engine']>).at;
    throw apacheError(
      E.BAD_VALUE,
      `${label} has SSLEngine on but no SSLCertificateFile (Apache refuses to start so too)`,
      at,
      'SSLEngine',
      'Add SSLCertificateFile /path/to/site.pem and SSLCertificateKeyFile /path/to/site.key',
    );
  }
  return {
    certificate: ssl.certificate.value,
    privateKey: (ssl.key ?? ssl.certificate).value,
    ...(ssl.chain !== undefined ? { certificateChain: ssl.chain.value } : {}),
  };
}

const ALL = ['sslv3', 'tlsv1', 'tlsv1.1', 'tlsv1.2', 'tlsv1.3'];
const SHOWN: Record<string, string> = { sslv3: 'SSLv3', tlsv1: 'TLSv1', 'tlsv1.1': 'TLSv1.1', 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

/** The listener's settings from SSLProtocol, SSLCipherSuite and Protocols. */
function tlsSettings(ssl: SslDecl, site: Site): ListenerTlsInput {
  let minVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2';
  const protocol = ssl.protocol;
  if (protocol !== undefined) {
    // mod_ssl: a name without + or - replaces the set, +name adds, -name removes; all is every protocol.
    let set = new Set<string>();
    for (const a of protocol.value) {
      const sign = a.startsWith('+') ? '+' : a.startsWith('-') ? '-' : '';
      const name = a.slice(sign.length).toLowerCase();
      const names = name === 'all' ? ALL : [name];
      if (sign === '') set = new Set(names);
      else for (const n of names) sign === '+' ? set.add(n) : set.delete(n);
    }
    const written = `SSLProtocol ${protocol.value.join(' ')}`;
    if (!set.has('tlsv1.2') && !set.has('tlsv1.3')) {
      throw apacheError(
        E.BAD_VALUE,
        `${written} enables only protocols older than TLS 1.2, which wsgi-host never serves`,
        protocol.at,
        'SSLProtocol',
        'Write SSLProtocol -all +TLSv1.2 +TLSv1.3',
      );
    }
    if (!set.has('tlsv1.2')) minVersion = 'TLSv1.3';
    const old = ALL.filter((v) => set.has(v) && v !== 'tlsv1.2' && v !== 'tlsv1.3').map((v) => SHOWN[v]);
    if (old.length > 0) {
      site.notes.add(
        'not-honoured',
        `${written} enables ${old.join(', ')}: wsgi-host serves TLS 1.2 and 1.3 only, so clients that speak nothing newer are refused.`,
        protocol.at,
      );
    }
    if (!set.has('tlsv1.3')) site.notes.add('info', `${written} leaves out TLSv1.3: wsgi-host serves TLS 1.3 too (it is never weaker than 1.2).`, protocol.at);
  }
  const alpn = ssl.protocols?.value.filter((p): p is 'h2' | 'http/1.1' => p === 'h2' || p === 'http/1.1') ?? [];
  return {
    minVersion,
    ...(ssl.ciphers !== undefined ? { ciphers: ssl.ciphers.value } : {}),
    // Without Protocols Apache speaks HTTP/1.1 only: so does wsgi-host.
    alpn: alpn.length > 0 ? alpn : ['http/1.1'],
  };
}
