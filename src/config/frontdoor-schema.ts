import { z } from 'zod';
import { parseIpRange } from '../util/ip-address.js';
import { PROXY_HEADERS, proxyHeaderName, proxyHeadersConflict } from './proxy-headers.js';

/**
 * The production front door's part of the config model: TLS per listener and per virtual host,
 * trusted proxies and the PROXY protocol, response compression, health probes and the shutdown
 * sequence. Kept apart from schema.ts so that file stays a table of contents.
 */

const path = z.string().min(1);

/** Certificate files: PEM, re-read on every reload. */
export const CertificateFilesSchema = z.strictObject({
  /** The certificate (PEM); may hold the chain after it. */
  certificate: path,
  /** Its private key (PEM, unencrypted). */
  privateKey: path,
  /** Intermediate certificates (PEM), sent after the certificate. */
  certificateChain: path.optional(),
  /** A DER OCSP response to staple (refreshed by a job outside wsgi-host, re-read on reload). */
  ocspStaple: path.optional(),
});

/** `tls` of a listener: it speaks HTTPS. Its certificate is the one for names no host claims. */
export const ListenerTlsSchema = z
  .strictObject({
    certificate: path.optional(),
    privateKey: path.optional(),
    certificateChain: path.optional(),
    ocspStaple: path.optional(),
    /** TLS 1.2 at least; 'TLSv1.3' refuses 1.2 too. */
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    /** An OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are fixed); default: Node's. */
    ciphers: z.string().min(1).optional(),
    /** ALPN protocols in the server's order of preference (default: http/1.1; h2 once HTTP/2 is wired). */
    alpn: z
      .array(z.enum(['h2', 'http/1.1']))
      .min(1)
      .optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.certificate === undefined) !== (t.privateKey === undefined)) {
      const missing = t.certificate === undefined ? 'certificate' : 'privateKey';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'a certificate and its private key go together',
        params: { hint: "Give both certificate and private-key, or neither (then the hosts' certificates serve, the first one for unknown names)" },
      });
    }
  });

const cidr = z.string().superRefine((v, ctx) => {
  const r = parseIpRange(v);
  if (typeof r === 'string')
    ctx.addIssue({ code: 'custom', message: r, params: { hint: 'Write an IP address (10.0.0.5) or a CIDR range (10.0.0.0/8, fd00::/8)' } });
});

const proxyHeader = z.string().transform((v, ctx) => {
  const name = proxyHeaderName(v);
  if (name === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `'${v}' is not a proxy header wsgi-host knows`,
      params: { hint: `Use one of: ${Object.keys(PROXY_HEADERS).join(', ')}` },
    });
    return z.NEVER;
  }
  return name;
});

/** trusted-proxy-headers: at most one header per purpose (mod_wsgi: "never select multiple"). */
export const TrustedProxyHeadersSchema = z
  .array(proxyHeader)
  .default([])
  .superRefine((headers, ctx) => {
    const problem = proxyHeadersConflict(headers);
    if (problem !== undefined)
      ctx.addIssue({ code: 'custom', message: problem, params: { hint: 'Keep the one header per purpose that your proxy always sets (and overwrites)' } });
  });

export const TrustedProxiesSchema = z.array(cidr).default([]);

/** Media ranges: type/subtype or type/*, lower case, no parameters. */
const mediaRange = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .superRefine((v, ctx) => {
    if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/.test(v)) {
      ctx.addIssue({
        code: 'custom',
        message: `'${v}' is not a media type`,
        params: { hint: "Write type/subtype or type/* without parameters: 'text/html', not 'text/html; charset=utf-8'" },
      });
    }
  });

export const DEFAULT_COMPRESS_TYPES = [
  'text/*',
  'application/json',
  'application/javascript',
  'application/xml',
  'application/xhtml+xml',
  'application/rss+xml',
  'application/atom+xml',
  'application/ld+json',
  'application/manifest+json',
  'application/wasm',
  'image/svg+xml',
];

const CompressObject = z.strictObject({
  /** Content types compressed (type/subtype or type/*). */
  types: z
    .array(mediaRange)
    .min(1)
    .default(() => [...DEFAULT_COMPRESS_TYPES]),
  /** Bodies with a known length under this are sent as they are. */
  minSize: z.number().int().nonnegative().default(1024),
  /** Encodings offered, in the server's order of preference when the client likes both as much. */
  encodings: z
    .array(z.enum(['br', 'gzip']))
    .min(1)
    .default(['br', 'gzip']),
});

/** `compress = true` (the defaults), `false`, or a table. Off unless set. */
export const CompressSchema = z.preprocess((v) => (v === true ? {} : v === false ? undefined : v), CompressObject.optional());

export const HealthSchema = z.strictObject({
  /** Also answer the probes on every main listener (before routing: they hide app paths of the same name). */
  onListeners: z.boolean().default(false),
  /** The liveness path on the main listeners (the admin listener always has /healthz). */
  alivePath: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/, 'a path starts with / and has no spaces')
    .default('/healthz'),
  /** The readiness path on the main listeners (the admin listener always has /readyz). */
  readyPath: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/, 'a path starts with / and has no spaces')
    .default('/readyz'),
});

export const ShutdownSchema = z.strictObject({
  /**
   * On SIGTERM, readiness fails at once, and the listeners keep serving this long before they close
   * (so a load balancer stops sending first). Then requests in flight get graceful-timeout.
   */
  readinessDelay: z.number().nonnegative().max(3600).default(0),
});

export type ListenerTls = z.infer<typeof ListenerTlsSchema>;
export type CertificateFiles = z.infer<typeof CertificateFilesSchema>;
export type CompressConfig = z.infer<typeof CompressObject>;
export type HealthConfig = z.infer<typeof HealthSchema>;
export type ShutdownConfig = z.infer<typeof ShutdownSchema>;
