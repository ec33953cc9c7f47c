import { createSecureContext, type SecureContext, type SecureContextOptions, type Server as TlsServer, type TlsOptions } from 'node:tls';
import type { CertificateFiles } from '../config/frontdoor-schema.js';
import { SniTable } from './sni-names.js';
import { TlsError, TlsErrorCode as E, type TlsWarning, TlsWarningCode as W } from './tls-errors.js';
import { type CertificateMaterial, loadCertificate } from './tls-material.js';

/** What a TLS listener serves (tls-spec.ts builds it from the config model; paths are absolute). */
export interface TlsListenerSpec {
  /** 'listen[1]', for messages. */
  label: string;
  /** For clients that send no name, or one no host claims; undefined: the first host's. */
  default: CertificateFiles | undefined;
  /** Certificates of virtual hosts, chosen by SNI (exact names first, then *.wildcards). */
  hosts: { names: string[]; files: CertificateFiles }[];
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  /** ALPN protocols in order of preference. */
  alpn: string[];
}

interface Loaded {
  defaultOptions: SecureContextOptions;
  defaultContext: SecureContext;
  table: SniTable<SecureContext>;
  /** DER of a certificate (base64) -> its OCSP staple. */
  staples: Map<string, Buffer>;
  /** Fingerprints of the certificates in use, for messages and tests. */
  fingerprints: string[];
  warnings: TlsWarning[];
}

/**
 * The secure contexts of one TLS listener: built from PEM files, chosen by SNI, and replaced as a
 * whole on reload only when every file of the new set loads. A tls.Server takes
 * `serverOptions()` and is `attach`ed so that reloads reach connections without SNI and OCSP
 * requests are answered; connections already open keep the context they started with.
 */
export class TlsContexts {
  private spec: TlsListenerSpec;
  private current: Loaded;
  private readonly servers = new Set<TlsServer>();

  private constructor(spec: TlsListenerSpec, loaded: Loaded) {
    this.spec = spec;
    this.current = loaded;
  }

  /** Loads every certificate of the listener; throws a TlsError naming the file and the fix. */
  static async load(spec: TlsListenerSpec, now?: number): Promise<TlsContexts> {
    return new TlsContexts(spec, await build(spec, now));
  }

  /** Warnings of the last (re)load: expired or soon-expiring certificates, names not covered... */
  get warnings(): readonly TlsWarning[] {
    return this.current.warnings;
  }

  get fingerprints(): readonly string[] {
    return this.current.fingerprints;
  }

  /** Options for tls.createServer (or http2.createSecureServer). */
  serverOptions(): TlsOptions {
    return { ...this.current.defaultOptions, SNICallback: this.sniCallback, ALPNProtocols: [...this.spec.alpn] };
  }

  /** The context for a name a client sent (SNI), or the listener's default. */
  contextFor(serverName: string | undefined): SecureContext {
    return this.current.table.lookup(serverName) ?? this.current.defaultContext;
  }

  /** Follows reloads on this server (the default certificate) and answers its OCSP requests. */
  attach(server: TlsServer): void {
    if (this.servers.has(server)) return;
    this.servers.add(server);
    // Free with SNI: the handshake already goes through Node's certificate callback.
    server.on('OCSPRequest', this.onOcspRequest);
    server.once('close', () => this.servers.delete(server));
  }

  /**
   * Reads every file again (of `spec`, a new configuration's, or the current one). Only when all
   * of it loads do new connections get the new contexts; otherwise the TlsError is thrown and the
   * running certificates keep serving. Returns the new set's warnings.
   */
  async reload(spec: TlsListenerSpec = this.spec, now?: number): Promise<TlsWarning[]> {
    const next = await this.prepare(spec, now);
    next.commit();
    return next.warnings;
  }

  /**
   * The first half of reload(): reads and checks every file, and throws a TlsError when one does
   * not load, without changing what serves. commit() then swaps the new set in. A server reload
   * prepares every listener first and commits only when all of them (and the rest of the new
   * configuration) loaded.
   */
  async prepare(spec: TlsListenerSpec = this.spec, now?: number): Promise<{ warnings: TlsWarning[]; commit: () => void }> {
    const next = await build(spec, now);
    const warnings = [...next.warnings];
    if (spec.alpn.join(',') !== this.spec.alpn.join(',')) {
      warnings.push({ code: W.ALPN_RESTART, message: `${spec.label}.tls.alpn changed: it applies when wsgi-host restarts` });
    }
    const commit = (): void => {
      this.current = next;
      this.spec = { ...spec, alpn: this.spec.alpn };
      for (const s of this.servers) s.setSecureContext(next.defaultOptions);
    };
    return { warnings, commit };
  }

  private readonly sniCallback = (serverName: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(serverName));
  };

  private readonly onOcspRequest = (certificate: Buffer, _issuer: Buffer, cb: (err: Error | null, response: Buffer) => void): void => {
    // Node's types say Buffer; null is how "no staple" is said.
    cb(null, this.current.staples.get(certificate.toString('base64')) ?? (null as unknown as Buffer));
  };
}

async function build(spec: TlsListenerSpec, now?: number): Promise<Loaded> {
  const first = spec.hosts[0];
  const defaultFiles = spec.default ?? first?.files;
  if (defaultFiles === undefined) {
    throw new TlsError(E.NO_CERTIFICATE, `${spec.label} speaks TLS but has no certificate`, {
      hint: `Give ${spec.label}.tls a certificate and private-key, or a [[host]] a tls table`,
    });
  }
  // Load each distinct set of files once, all in parallel; the first failure refuses the whole set.
  const byFiles = new Map<string, Promise<CertificateMaterial>>();
  const namesOf = new Map<string, string[]>();
  for (const h of spec.hosts) {
    const k = JSON.stringify(h.files);
    namesOf.set(k, [...(namesOf.get(k) ?? []), ...h.names]);
  }
  const material = (files: CertificateFiles): Promise<CertificateMaterial> => {
    const k = JSON.stringify(files);
    let m = byFiles.get(k);
    if (m === undefined) {
      m = loadCertificate(files, { names: namesOf.get(k) ?? [], ...(now !== undefined ? { now } : {}) });
      byFiles.set(k, m);
    }
    return m;
  };
  const [defaultMaterial, ...hostMaterial] = await Promise.all([material(defaultFiles), ...spec.hosts.map((h) => material(h.files))]);
  const options = (m: CertificateMaterial): SecureContextOptions => ({
    key: m.key,
    cert: m.cert,
    minVersion: spec.minVersion,
    honorCipherOrder: true,
    ...(spec.ciphers !== undefined ? { ciphers: spec.ciphers } : {}),
  });
  const context = (m: CertificateMaterial): SecureContext => {
    try {
      return createSecureContext(options(m));
    } catch (err) {
      const bad = spec.ciphers !== undefined && /cipher/i.test((err as Error).message);
      throw new TlsError(
        E.BAD_SETTINGS,
        `${spec.label}: OpenSSL refused ${bad ? `the cipher list '${spec.ciphers}'` : `the certificate ${m.files.certificate}`}: ${(err as Error).message}`,
        {
          ...(bad ? {} : { file: m.files.certificate }),
          cause: err,
          hint: bad
            ? `Fix ${spec.label}.tls.ciphers (openssl ciphers -v 'LIST' shows what it selects), or remove it for Node's defaults`
            : 'Check the certificate and key files',
        },
      );
    }
  };
  const contexts = new Map<CertificateMaterial, SecureContext>();
  const contextOf = (m: CertificateMaterial): SecureContext => {
    let c = contexts.get(m);
    if (c === undefined) {
      c = context(m);
      contexts.set(m, c);
    }
    return c;
  };
  const d = defaultMaterial as CertificateMaterial;
  const defaultContext = contextOf(d);
  const table = new SniTable<SecureContext>();
  const warnings: TlsWarning[] = [];
  spec.hosts.forEach((h, i) => {
    const m = hostMaterial[i] as CertificateMaterial;
    const ctx = contextOf(m);
    for (const name of h.names) {
      const problem = table.add(name, ctx);
      if (problem !== undefined) warnings.push({ code: W.SNI_NAME_UNUSABLE, message: `${problem}: clients asking for it get the default certificate` });
    }
  });
  const all = [...new Set([d, ...(hostMaterial as CertificateMaterial[])])];
  const seen = new Set<string>();
  for (const m of all) {
    for (const w of m.warnings) {
      const k = `${w.code}|${w.message}`;
      if (!seen.has(k)) {
        seen.add(k);
        warnings.push(w);
      }
    }
  }
  const staples = new Map<string, Buffer>();
  for (const m of all) if (m.staple !== undefined) staples.set(m.leaf.raw.toString('base64'), m.staple);
  return { defaultOptions: options(d), defaultContext, table, staples, fingerprints: all.map((m) => m.leaf.fingerprint256), warnings };
}
