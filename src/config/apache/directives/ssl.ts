import { ApacheErrorCode as E, apacheError } from '../errors.js';
import { type DirectiveNode, whereOf } from '../read/nodes.js';
import { expectArgs, onOff } from './args.js';
import type { Ctx, Site, SslDecl } from './site.js';

/**
 * mod_ssl's directives (and the core's Protocols) read into the SslDecl of the <VirtualHost> they
 * stand in, or of the server level, which VirtualHosts inherit as mod_ssl merges them.
 * translate/tls.ts turns them into the TLS of hosts and listeners.
 */

const sslOf = (ctx: Ctx, site: Site): SslDecl => ctx.host?.ssl ?? site.ssl;

export function sslEngine(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'SSLEngine on');
  const v = (d.args[0] as string).toLowerCase();
  if (v === 'optional') {
    site.notes.add(
      'not-honoured',
      `SSLEngine optional in ${ctx.label} is not honoured: wsgi-host does not upgrade connections to TLS (RFC 2817); the connections of this host stay plain HTTP. Use SSLEngine on for an HTTPS host.`,
      d,
    );
    sslOf(ctx, site).engine = { value: false, at: whereOf(d) };
    return;
  }
  sslOf(ctx, site).engine = { value: onOff(d, d.args[0] as string), at: whereOf(d) };
}

/** SSLCertificateFile, SSLCertificateKeyFile, SSLCertificateChainFile: one file each. */
export function sslFile(field: 'certificate' | 'key' | 'chain') {
  return (d: DirectiveNode, ctx: Ctx, site: Site): void => {
    expectArgs(d, 1, 1, `${d.name} /etc/ssl/site.${field === 'key' ? 'key' : 'pem'}`);
    const ssl = sslOf(ctx, site);
    const path = site.paths.absolute(d.args[0] as string);
    const current = ssl[field];
    if (current !== undefined) {
      site.notes.add(
        'not-honoured',
        `${d.name} ${d.args[0]} in ${ctx.label} is not honoured: wsgi-host serves one certificate per host (the first one given, ${current.value}); Apache can serve a second one of another key type (ECDSA beside RSA).`,
        d,
      );
      return;
    }
    ssl[field] = { value: path, at: whereOf(d) };
  };
}

const PROTOCOL_NAMES = ['all', 'sslv3', 'tlsv1', 'tlsv1.1', 'tlsv1.2', 'tlsv1.3'];

export function sslProtocol(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, Infinity, 'SSLProtocol -all +TLSv1.2 +TLSv1.3');
  for (const a of d.args) {
    if (!PROTOCOL_NAMES.includes(a.replace(/^[+-]/, '').toLowerCase())) {
      throw apacheError(E.BAD_VALUE, `SSLProtocol: '${a}' is not a protocol`, d, 'SSLProtocol', 'Write e.g. SSLProtocol -all +TLSv1.2 +TLSv1.3');
    }
  }
  sslOf(ctx, site).protocol = { value: [...d.args], at: whereOf(d) };
}

export function sslCipherSuite(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 2, 'SSLCipherSuite HIGH:!aNULL:!MD5');
  if (ctx.level === 'section') {
    site.notes.add(
      'not-honoured',
      `SSLCipherSuite in ${ctx.label} is not honoured: wsgi-host does not renegotiate a connection per folder; the host's cipher list applies.`,
      d,
    );
    return;
  }
  if (d.args.length === 2) {
    const protocol = (d.args[0] as string).toUpperCase();
    if (protocol === 'TLSV1.3') {
      site.notes.add(
        'not-honoured',
        `SSLCipherSuite TLSv1.3 ${d.args[1]} in ${ctx.label} is not honoured: wsgi-host offers OpenSSL's TLS 1.3 suites (all of them strong).`,
        d,
      );
      return;
    }
    if (protocol !== 'SSL') {
      throw apacheError(
        E.BAD_VALUE,
        `SSLCipherSuite: '${d.args[0]}' is not SSL or TLSv1.3`,
        d,
        'SSLCipherSuite',
        'Write SSLCipherSuite SPEC or SSLCipherSuite SSL SPEC',
      );
    }
  }
  sslOf(ctx, site).ciphers = { value: d.args[d.args.length - 1] as string, at: whereOf(d) };
}

export function sslHonorCipherOrder(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'SSLHonorCipherOrder on');
  if (!onOff(d, d.args[0] as string)) {
    site.notes.add(
      'not-honoured',
      `SSLHonorCipherOrder off in ${ctx.label} is not honoured: wsgi-host always picks the cipher by the server's order (the stronger choice).`,
      d,
    );
  }
}

/** Protocols h2 http/1.1: the protocols offered by ALPN on TLS (h2c, cleartext HTTP/2, is not served). */
export function protocols(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, Infinity, 'Protocols h2 http/1.1');
  const known = d.args.map((a) => a.toLowerCase()).filter((a) => a === 'h2' || a === 'http/1.1');
  const other = d.args.filter((a) => !['h2', 'http/1.1'].includes(a.toLowerCase()));
  if (other.length > 0) {
    site.notes.add(
      'not-honoured',
      `Protocols ${other.join(' ')} in ${ctx.label} is not honoured: wsgi-host speaks h2 (over TLS) and http/1.1; clients that would use ${other.join(', ')} use HTTP/1.1.`,
      d,
    );
  }
  sslOf(ctx, site).protocols = { value: known, at: whereOf(d) };
}

/** SSLOptions: what a request's environ gets from mod_ssl. */
export function sslOptions(d: DirectiveNode, ctx: Ctx, site: Site, reason: string): void {
  expectArgs(d, 1, Infinity, 'SSLOptions +StdEnvVars');
  const env = d.args.filter((a) => /^[+]?(StdEnvVars|ExportCertData)$/i.test(a));
  if (env.length > 0) {
    site.notes.add('not-honoured', `SSLOptions ${env.join(' ')} in ${ctx.label} is not honoured: ${reason}`, d);
    return;
  }
  site.notes.ignore(d.name, 'its other options work with client certificates or SSLRequire, which wsgi-host refuses.', d);
}

/** SSLRequireSSL: honoured where every request arrives over TLS (translate/tls.ts decides). */
export function sslRequireSsl(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 0, 0, 'SSLRequireSSL');
  sslOf(ctx, site).requireSsl.push(whereOf(d));
}
