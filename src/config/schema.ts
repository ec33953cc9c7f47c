import { z } from 'zod';
import { accessFormatProblem } from '../observability/access-log.js';
import { parseListenAddress, parseVhostAddress } from '../util/host-port.js';
import { AccessSchema } from './access-schema.js';
import {
  CertificateFilesSchema,
  CompressSchema,
  HealthSchema,
  ListenerTlsSchema,
  ShutdownSchema,
  TrustedProxiesSchema,
  TrustedProxyHeadersSchema,
} from './frontdoor-schema.js';

/**
 * The one config model. CLI flags, the TOML file and Apache mod_wsgi directives are all
 * translated into this shape and validated by it. Durations are in seconds, sizes in bytes, as
 * mod_wsgi's options are. Keys here are camelCase; the TOML file spells them in kebab-case
 * (python-home, request-timeout), as mod_wsgi does.
 */

const seconds = z.number().nonnegative();
const bytes = z.number().int().nonnegative();

export const GROUP_NAME = /^[A-Za-z0-9_.:@-]+$/;

const ListenerObject = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8000),
  /** HTTPS on this listener (see frontdoor-schema.ts). */
  tls: ListenerTlsSchema.optional(),
  /** Every connection starts with a PROXY protocol v1/v2 header (from a trusted proxy). */
  proxyProtocol: z.boolean().default(false),
});

/** The listener when none is configured: 127.0.0.1:8000. */
export const defaultListener = (): ListenerConfig => ListenerObject.parse({});

/** A listener: { host, port } or the string "host:port", "[::1]:port", ":port" or "port" (util/host-port.ts). */
export const ListenerSchema = z.preprocess((v) => (typeof v === 'string' ? (parseListenAddress(v) ?? v) : v), ListenerObject);

export const DynamicPoolSchema = z.strictObject({
  /** Processes kept even when idle. */
  min: z.number().int().min(0).default(0),
  /** Processes at most; more are started on demand. */
  max: z.number().int().min(1).default(4),
  /** A process idle this long is stopped (never below min). */
  idleTimeout: seconds.default(300),
});

/** Settings of a process group; the default group (no name) takes the same ones. */
export const GroupSettingsSchema = z.strictObject({
  pythonHome: z.string().min(1).optional(),
  pythonPath: z.array(z.string().min(1)).default([]),
  processes: z.number().int().min(1).max(1024).default(1),
  threads: z.number().int().min(1).max(1024).default(5),
  dynamic: DynamicPoolSchema.optional(),
  workingDirectory: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).default({}),
  lang: z.string().min(1).optional(),
  locale: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  group: z.string().min(1).optional(),
  displayName: z.string().min(1).optional(),
  /** A request running longer is cut: 504 to the client, stack logged, worker replaced. */
  requestTimeout: seconds.default(60),
  /** A request waiting longer for a free thread gets 503. */
  queueTimeout: seconds.default(45),
  /** Requests waiting for a free thread, at most; more get 503 at once. */
  queueSize: z.number().int().min(0).default(1024),
  /** Recycle a process after this many requests (0: never). */
  maximumRequests: z.number().int().min(0).default(0),
  /** Random extra requests (0..jitter) per process so a group's processes do not recycle together. */
  maximumRequestsJitter: z.number().int().min(0).default(0),
  /** Recycle a process after this many seconds (0: never). */
  restartInterval: seconds.default(0),
  /** Recycle a process whose resident memory exceeds this many bytes (0: no limit). */
  memoryLimit: bytes.default(0),
  /** Recycle a process that served nothing for this long (0: never). */
  inactivityTimeout: seconds.default(0),
  /** A process must load the application and report ready within this time. */
  startupTimeout: seconds.default(30),
  /** In-flight requests get this long to finish when a process is recycled or reloaded. */
  gracefulTimeout: seconds.default(15),
  /** After graceful-timeout, a process gets this long to exit before it is killed. */
  shutdownTimeout: seconds.default(5),
  /** mod_wsgi's script reloading: touching the WSGI script restarts the group. */
  scriptReloading: z.boolean().default(true),
  /**
   * wsgi.multiprocess; default: whether the group can have more than one process. mod_wsgi says
   * true whenever WSGIDaemonProcess has processes=, even processes=1.
   */
  multiprocess: z.boolean().optional(),
});

/**
 * The default group: without an explicit process count it is a dynamic pool (as Unit's and
 * Passenger's are): processes start on demand and stop when idle. See withEffectiveDefaults().
 */
export const DefaultGroupSchema = GroupSettingsSchema.omit({ pythonHome: true, pythonPath: true }).extend({
  processes: z.number().int().min(1).max(1024).optional(),
});

export const GroupSchema = z.strictObject({
  name: z.string().regex(GROUP_NAME, 'group names use letters, digits and _ . : @ -'),
  ...GroupSettingsSchema.shape,
});

export const MountSchema = z.strictObject({
  /** URL prefix; matched at a segment boundary. */
  path: z.string().default('/'),
  /** A WSGI script file, loaded as mod_wsgi loads it. */
  script: z.string().min(1).optional(),
  /** Or an importable `package.module:callable`, as gunicorn takes it. */
  module: z.string().min(1).optional(),
  callable: z.string().min(1).default('application'),
  /** The process group; none means the default group (server-wide python-home). */
  group: z.string().min(1).optional(),
  /** %{GLOBAL} shares the group's processes; any other name gets processes of its own. */
  applicationGroup: z.string().min(1).default('%{GLOBAL}'),
  passAuthorization: z.boolean().default(true),
  /** Extra keys in each request's environ (mod_wsgi-express --setenv, Apache SetEnv). */
  environ: z.record(z.string(), z.string()).default({}),
  /** Response compression (off unless set). */
  compress: CompressSchema,
  /** Who may reach it (Apache's Require, Order/Allow/Deny): see src/access/policy.ts. */
  access: AccessSchema.optional(),
});

/**
 * Files and folders whose name starts with a dot under a static alias (.env, .git/, .htaccess):
 * 'deny' answers 403 (as Debian's Apache does for .ht*), 'hide' answers 404, 'allow' serves them
 * (except .ht*, always 403). /.well-known/ is served under 'deny' and 'hide' alike (RFC 8615).
 */
export const DotfilesSchema = z.enum(['deny', 'hide', 'allow']);

export const StaticSchema = z.strictObject({
  path: z.string().min(1),
  directory: z.string().min(1),
  dotfiles: DotfilesSchema.default('deny'),
  /** Response compression (off unless set). */
  compress: CompressSchema,
  /** Who may reach which files (Apache's Require, Order/Allow/Deny): see src/access/policy.ts. */
  access: AccessSchema.optional(),
});

/** '*:80', '127.0.0.1:8080', '[::1]:443', '_default_:*', '10.0.0.5' (every port): as <VirtualHost> writes them. */
const VhostAddressSchema = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    const a = parseVhostAddress(text);
    if (typeof a === 'string') ctx.addIssue({ code: 'custom', message: `${a}; write e.g. "*:80", "127.0.0.1:8080" or "[::1]:443"` });
  });

/**
 * Apache's AllowEncodedSlashes: what a %2F in a URL path does. 'off' (Apache's default): 404;
 * 'on': decoded to '/' (then the path is normalized again); 'nodecode': kept as '%2F' in PATH_INFO.
 * Apache's spellings (Off, On, NoDecode) are accepted in any case.
 */
export const EncodedSlashesSchema = z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['off', 'on', 'nodecode']));

export const VirtualHostSchema = z.strictObject({
  serverName: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
  /**
   * The addresses it answers on, as <VirtualHost> lists them: a connection is matched to the hosts
   * of its own address first, then by name (src/http/vhost-select.ts). None: every address.
   */
  addresses: z.array(VhostAddressSchema).optional(),
  default: z.boolean().default(false),
  /** This host's AllowEncodedSlashes; the top-level setting when absent. */
  allowEncodedSlashes: EncodedSlashesSchema.optional(),
  mount: z.array(MountSchema).default([]),
  static: z.array(StaticSchema).default([]),
  /** The host's certificate on TLS listeners, chosen by SNI. */
  tls: CertificateFilesSchema.optional(),
  /** Plain-HTTP requests for this host get a 308 to the same URL on HTTPS. */
  redirectToHttps: z.boolean().default(false),
});

export const HttpLimitsSchema = z.strictObject({
  /** Request line and headers, at most (431 beyond). */
  maxHeaderSize: bytes.default(16 * 1024),
  /** Request body, at most (413 beyond; 0: no limit). */
  maxBodySize: bytes.default(1024 * 1024 * 1024),
  /** Headers must arrive within this time (408 beyond). */
  headerTimeout: seconds.default(10),
  /** Header lines at most (431 beyond; 0: no limit but max-header-size). */
  maxHeaderCount: z.number().int().min(0).default(100),
  /** The body must keep arriving: no gap longer than this (408). */
  bodyTimeout: seconds.default(60),
  /** After body-min-rate-grace, a body must arrive at this many bytes per second on average (408; 0: no minimum). */
  bodyMinRate: z.number().nonnegative().default(500),
  /** The time a body gets before body-min-rate applies (mod_reqtimeout's body=20). */
  bodyMinRateGrace: seconds.default(20),
  /** Bodies up to this size are read whole before a worker thread is taken (0: stream every body). */
  bufferRequestBody: bytes.default(1024 * 1024),
  /** Memory all buffered request bodies may take together; beyond it, bodies stream. */
  bufferMemory: bytes.default(64 * 1024 * 1024),
  /**
   * Requests one connection may have ahead: on HTTP/1.1 read and waiting behind the one being
   * answered (beyond, reading pauses); on HTTP/2 streams served at once (the others wait, unread).
   */
  maxPipelined: z.number().int().min(1).default(16),
  /** HTTP/2: streams a client may have open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: z.number().int().min(1).max(2_147_483_647).default(100),
  /** An idle kept-alive connection is closed after this long. */
  keepAliveTimeout: seconds.default(5),
  /** Open connections at most (0: no limit). */
  maxConnections: z.number().int().min(0).default(0),
});

export const LogSchema = z.strictObject({
  /** Access log: 'off', '-' (stdout) or a file path. */
  access: z.string().default('off'),
  accessFormat: z
    .string()
    .default('combined')
    .superRefine((format, ctx) => {
      const problem = accessFormatProblem(format);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem.message, params: { hint: problem.hint } });
    }),
  /** Error log: '-' (stderr) or a file path. */
  error: z.string().default('-'),
  level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** 'pretty' on a terminal, 'json' otherwise, unless set. */
  format: z.enum(['auto', 'pretty', 'json']).default('auto'),
});

export const AdminSchema = z.strictObject({
  /**
   * The admin listener (reload, status, metrics): 'auto' (a unix socket named after the
   * configuration, in the user's private runtime folder), a unix socket path, host:port, a bare
   * port (on 127.0.0.1), or 'off'. See src/admin/admin-address.ts.
   */
  listen: z.string().default('auto'),
  token: z.string().min(1).optional(),
});

export const ServerConfigSchema = z.strictObject({
  listen: z
    .array(ListenerSchema)
    .min(1)
    .default(() => [defaultListener()]),
  /** WSGIPythonHome: the default group's environment. */
  pythonHome: z.string().min(1).optional(),
  /** WSGIPythonPath: the default group's extra sys.path entries. */
  pythonPath: z.array(z.string().min(1)).default([]),
  defaultGroup: DefaultGroupSchema.default(() => DefaultGroupSchema.parse({})),
  group: z.array(GroupSchema).default([]),
  mount: z.array(MountSchema).default([]),
  static: z.array(StaticSchema).default([]),
  host: z.array(VirtualHostSchema).default([]),
  limits: HttpLimitsSchema.default(() => HttpLimitsSchema.parse({})),
  /** Apache's AllowEncodedSlashes for every host without its own. */
  allowEncodedSlashes: EncodedSlashesSchema.default('off'),
  /**
   * Busy-polling budget in microseconds (0: off). While a reply is due within this time, the front
   * end and an idle worker poll instead of sleeping: a wake-up costs tens of microseconds on
   * virtual machines. Adaptive: only while recent replies (requests) come faster than this.
   */
  busyPoll: z.number().int().min(0).max(100_000).default(300),
  /**
   * Front-end event loops that accept and serve HTTP (each a thread of the one front-end process,
   * reaching every worker process directly): a number, or "auto": half the CPUs this process may
   * use (at most 16), one below 4 CPUs. 1 is a single loop, as before.
   */
  frontEnds: z.union([z.number().int().min(1).max(64), z.literal('auto')]).default(1),
  /** Development: restart a group when a Python source file its processes loaded changes. */
  reloadOnChanges: z.boolean().default(false),
  log: LogSchema.default(() => LogSchema.parse({})),
  admin: AdminSchema.default(() => AdminSchema.parse({})),
  /** Peers whose proxy headers (and PROXY protocol headers) are believed: addresses or CIDR ranges. */
  trustedProxies: TrustedProxiesSchema,
  /** The proxy headers believed from trusted proxies (one per purpose); from others they are removed. */
  trustedProxyHeaders: TrustedProxyHeadersSchema,
  health: HealthSchema.default(() => HealthSchema.parse({})),
  shutdown: ShutdownSchema.default(() => ShutdownSchema.parse({})),
});

export type ServerConfig = z.infer<typeof ServerConfigSchema>;
export type DefaultGroupSettings = z.infer<typeof DefaultGroupSchema>;
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;
export type GroupSettings = z.infer<typeof GroupSettingsSchema>;
export type GroupConfig = z.infer<typeof GroupSchema>;
export type MountConfig = z.infer<typeof MountSchema>;
export type StaticConfig = z.infer<typeof StaticSchema>;
export type VirtualHostConfig = z.infer<typeof VirtualHostSchema>;
export type HttpLimits = z.infer<typeof HttpLimitsSchema>;
export type ListenerConfig = z.infer<typeof ListenerObject>;
export type EncodedSlashesSetting = z.infer<typeof EncodedSlashesSchema>;
export type DotfilesSetting = z.infer<typeof DotfilesSchema>;
