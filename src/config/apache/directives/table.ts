// reason: the directive table is one list, read as a table; the walk that applies it follows it.
import type { ConfigError } from '../../errors.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import type { ConfigNode, DirectiveNode } from '../read/nodes.js';
import type { ReadResult } from '../read/reader.js';
import { accessLine, allowOverride, noteIgnored, refuseUnless } from './access.js';
import { daemonProcess } from './daemon-options.js';
import {
  addHandler,
  alias,
  allowEncodedSlashes,
  applicationGroup,
  callableObject,
  dontWriteBytecode,
  importScript,
  keepAliveTimeout,
  limitRequestBody,
  limitRequestFields,
  listen,
  passAuthorization,
  processGroup,
  pythonEggs,
  pythonHashSeed,
  pythonHome,
  pythonOptimize,
  pythonPath,
  pythonWarnings,
  scriptAlias,
  scriptReloading,
  serverAlias,
  serverName,
  serverRoot,
  setEnv,
  setHandler,
} from './handlers.js';
import { accessSection, contextSection, unknownSection, virtualHost } from './sections.js';
import { protocols, sslCipherSuite, sslEngine, sslFile, sslHonorCipherOrder, sslOptions, sslProtocol, sslRequireSsl } from './ssl.js';
import { OUTPUT_FILTERS, outputFilter } from './output-filters.js';
import { PROXIES_SCOPE, trustedProxies, trustedProxyHeaders } from './trusted-proxies.js';
import { type Ctx, collecting, type Handler, type Level, newSite, type SectionHandler, type Site } from './site.js';

/**
 * THE DIRECTIVE TABLE: every Apache directive wsgi-host knows, what it does with it, and where it
 * lands in the model.
 *
 *   honoured      translated by its handler (handlers.ts, daemon-options.ts, access.ts) into the
 *                 Site, which translate/ turns into the model key shown; the handler notes the
 *                 forms of the directive it cannot honour.
 *   not-honoured  Apache would answer some requests differently: a note at every place it appears.
 *   ignored       nothing the application sees changes: one note, at its first place, with a count.
 *
 * `where` is where Apache allows a translated directive (elsewhere it is an error, as in Apache):
 * the server level, a <VirtualHost>, or a section (<Directory>, <Location>, <Files>...).
 * Directives no row names fall to FAMILIES (SSL*, Auth*...) below, then to "ignored".
 * Include, IncludeOptional, Define, UnDefine, ${VAR}, <IfModule>, <IfDefine> and <IfVersion> are
 * done while reading (read/reader.ts) and never reach this table.
 *
 * To add a directive: one row here, and a handler beside its kin when it is translated (access
 * control in access.ts, request-target rules such as AllowEncodedSlashes with Alias in handlers.ts)
 * that reads it into a field of the Site (site.ts); translate/ carries that field into the model.
 */

const SERVER = ['server'] as const;
const VHOST = ['vhost'] as const;
const SERVER_VHOST = ['server', 'vhost'] as const;
const ANYWHERE = ['server', 'vhost', 'section'] as const;
const SECTION = ['section'] as const;

const FILES = "it is Apache's handling of files; wsgi-host serves Alias directories as they are.";
const REQUIRE_REFUSED =
  'Refused (translate/access-lines.ts): Require user, group, valid-user and other providers that need an authenticated user, host and forward-dns (DNS lookups), expr, and env of a variable SetEnvIf, BrowserMatch or RewriteRule sets.';
const FROM_REFUSED = 'Refused: a host name (DNS lookups), and env= of a variable SetEnvIf, BrowserMatch or RewriteRule sets.';

// biome-ignore format: the table is aligned in columns to be read as a table
const DIRECTIVES: readonly DirectiveRow[] = [
  //       directive                 where          handler              model key
  // ---- addresses and names
  honoured('Listen',                 SERVER,        listen,              'listen'),
  honoured('ServerName',             SERVER_VHOST,  serverName,          "host.serverName; mod_wsgi's %{SERVER}"),
  honoured('ServerAlias',            VHOST,         serverAlias,         'host.aliases'),
  honoured('ServerRoot',             SERVER,        serverRoot,          '(relative paths; followed by read/reader.ts)'),
  // ---- URLs: what a request path reaches
  honoured('Alias',                  SERVER_VHOST,  alias,               'static; mount for a WSGI script'),
  honoured('AllowEncodedSlashes',    SERVER_VHOST,  allowEncodedSlashes, 'allowEncodedSlashes; host.allowEncodedSlashes'),
  honoured('WSGIScriptAlias',        SERVER_VHOST,  scriptAlias,         'mount (options: process-group= ...)'),
  honoured('WSGIScriptAliasMatch',   SERVER_VHOST,  scriptAlias,         'mount, one per script it matches'),
  honoured('AddHandler',             ANYWHERE,      addHandler,          'mount (an Alias to a script)', FILES),
  honoured('SetHandler',             ANYWHERE,      setHandler,          'mount (an Alias to a script)', FILES),
  // ---- process groups and their Python
  honoured('WSGIDaemonProcess',      SERVER_VHOST,  daemonProcess,       'group (options: DAEMON_OPTIONS)'),
  honoured('WSGIPythonHome',         SERVER,        pythonHome,          'pythonHome'),
  honoured('WSGIPythonPath',         SERVER,        pythonPath,          'pythonPath'),
  honoured('WSGIPythonEggs',         SERVER,        pythonEggs,          'defaultGroup.env.PYTHON_EGG_CACHE'),
  honoured('WSGIPythonOptimize',     SERVER,        pythonOptimize,      'group.env.PYTHONOPTIMIZE'),
  honoured('WSGIPythonHashSeed',     SERVER,        pythonHashSeed,      'group.env.PYTHONHASHSEED'),
  honoured('WSGIDontWriteBytecode',  SERVER,        dontWriteBytecode,   'group.env.PYTHONDONTWRITEBYTECODE'),
  honoured('WSGIPythonWarnings',     SERVER,        pythonWarnings,      'group.env.PYTHONWARNINGS'),
  honoured('WSGIImportScript',       SERVER_VHOST,  importScript,        '(a note: mounted scripts load at start)'),
  // ---- settings merged over the server, <VirtualHost> and sections, per mount
  honoured('WSGIProcessGroup',       ANYWHERE,      processGroup,        'mount.group'),
  honoured('WSGIApplicationGroup',   ANYWHERE,      applicationGroup,    'mount.applicationGroup'),
  honoured('WSGICallableObject',     ANYWHERE,      callableObject,      'mount.callable'),
  honoured('WSGIPassAuthorization',  ANYWHERE,      passAuthorization,   'mount.passAuthorization'),
  honoured('WSGIScriptReloading',    ANYWHERE,      scriptReloading,     'group.scriptReloading'),
  honoured('SetEnv',                 ANYWHERE,      setEnv,              'mount.environ'),
  // ---- limits
  honoured('KeepAliveTimeout',       SERVER_VHOST,  keepAliveTimeout,    'limits.keepAliveTimeout'),
  honoured('LimitRequestBody',       ANYWHERE,      limitRequestBody,    'limits.maxBodySize'),
  honoured('LimitRequestFields',     SERVER_VHOST,  limitRequestFields,  'limits.maxHeaderCount'),
  // ---- TLS (ssl.ts; translate/tls.ts): a VirtualHost with SSLEngine on makes its port's listeners speak TLS
  honoured('SSLEngine',              SERVER_VHOST,  sslEngine,           'host.tls; listen.tls of its port', 'SSLEngine optional (an RFC 2817 upgrade) is noted, and the host stays plain HTTP.'),
  honoured('SSLCertificateFile',     SERVER_VHOST,  sslFile('certificate'), 'host.tls.certificate', 'A second one (of another key type) is noted: one certificate per host.'),
  honoured('SSLCertificateKeyFile',  SERVER_VHOST,  sslFile('key'),      'host.tls.privateKey (the certificate file when absent)', 'A second one is noted.'),
  honoured('SSLCertificateChainFile', SERVER_VHOST, sslFile('chain'),    'host.tls.certificateChain'),
  honoured('SSLProtocol',            SERVER_VHOST,  sslProtocol,         'listen.tls.minVersion', 'TLS 1.0 and 1.1 (and SSLv3) are never served: noted when listed; TLS 1.3 is served beside 1.2.'),
  honoured('SSLCipherSuite',         ANYWHERE,      sslCipherSuite,      'listen.tls.ciphers', 'Noted: the TLSv1.3 form (OpenSSL\'s TLS 1.3 suites are served) and one in a section (no per-folder renegotiation).'),
  honoured('SSLHonorCipherOrder',    SERVER_VHOST,  sslHonorCipherOrder, "(always on: the server's order)", 'SSLHonorCipherOrder off is noted.'),
  honoured('Protocols',              SERVER_VHOST,  protocols,           'listen.tls.alpn (without it: http/1.1, as in Apache)', 'Protocols h2c (cleartext HTTP/2) is noted.'),
  honoured('SSLRequireSSL',          SECTION,       sslRequireSsl,       '(every request of a host with SSLEngine on arrives over TLS)',
    'Refused (translate/tls.ts) where a request could arrive without TLS: a section of a VirtualHost without SSLEngine on, or at the server level while a listener speaks plain HTTP.'),
  notedBy('SSLOptions',              ANYWHERE,      sslOptions,
    'wsgi-host gives the application wsgi.url_scheme https on TLS and SSL_TLS_SNI (as mod_wsgi with mod_ssl does without it), but not HTTPS=on or the other SSL_* variables of +StdEnvVars and +ExportCertData: read the scheme from wsgi.url_scheme.'),
  ...notHonoured('wsgi-host staples an OCSP response it reads from a file (tls.ocsp-staple) and fetches none itself: fetch it with openssl ocsp from a job, then reload.', 'SSLUseStapling'),
  honoured('WSGITrustedProxies',     ANYWHERE,      trustedProxies,      'trustedProxies', PROXIES_SCOPE),
  honoured('WSGITrustedProxyHeaders', ANYWHERE,     trustedProxyHeaders, 'trustedProxyHeaders', PROXIES_SCOPE),
  // ---- access control (in <Directory>, <Files>, <Location> and their Match forms; access.ts)
  honoured('Require',                SECTION,       accessLine,          'mount.access / static.access: require', REQUIRE_REFUSED),
  honoured('AuthMerging',            SECTION,       accessLine,          'mount.access / static.access: merge'),
  honoured('Order',                  SECTION,       accessLine,          'mount.access / static.access: compat'),
  honoured('Allow',                  SECTION,       accessLine,          'mount.access / static.access: compat', FROM_REFUSED),
  honoured('Deny',                   SECTION,       accessLine,          'mount.access / static.access: compat', FROM_REFUSED),
  honoured('Satisfy',                SECTION,       accessLine,          'mount.access / static.access: compat'),
  // ---- refused: Apache would restrict access or send requests elsewhere, and wsgi-host cannot
  ...refused('wsgi-host does not redirect: do it in the application or in a front proxy.',
    'Redirect', 'RedirectMatch', 'RedirectPermanent', 'RedirectTemp'),
  ...refused('wsgi-host does not run CGI scripts: serve them elsewhere, or remove the line.', 'ScriptAlias', 'ScriptAliasMatch'),
  ...refused('only prefix Alias lines become static directories: write one Alias per folder.', 'AliasMatch'),
  ...refused('wsgi-host does not rewrite URLs: do it in a front proxy or in the application.', 'RewriteRule'),
  ...refused('wsgi-host is not a reverse proxy: keep a proxy in front for those URLs.', 'ProxyPass', 'ProxyPassMatch'),
  ...refused('wsgi-host does not add, edit or remove headers: set them in the application or a front proxy.', 'Header', 'RequestHeader'),
  ...refused('wsgi-host does not evaluate mod_ssl expressions: check the condition in the application, or in a proxy in front.', 'SSLRequire'),
  conditional('SSLVerifyClient',     ANYWHERE,      refuseUnless(/^none$/i), 'when require, optional or optional_no_ca',
    'wsgi-host does not ask clients for certificates: check them in a TLS-terminating proxy in front of it.'),
  conditional('SSLStrictSNIVHostCheck', SERVER_VHOST, refuseUnless(/^off$/i), 'when on',
    "wsgi-host serves clients that send no SNI name (with the listener's certificate), and cannot refuse them per host."),
  conditional('ProxyRequests',       SERVER_VHOST,  refuseUnless(/^off$/i), 'when On', 'wsgi-host is not a forward proxy.'),
  conditional('AllowOverride',       SECTION,       allowOverride,       'when it lets .htaccess files restrict a folder wsgi-host serves that has one',
    "wsgi-host reads no .htaccess files: move their rules into the configuration (and set AllowOverride None)."),
  conditional('Options',             ANYWHERE,      noteIgnored,         'when it drops FollowSymLinks for a folder wsgi-host serves that holds a symbolic link (translate/access.ts)', FILES),
  ...refused("wsgi-host runs only the WSGI application itself: Apache would let this script decide who gets in or which interpreter runs a request; do that in the application.",
    'WSGIAccessScript', 'WSGIDispatchScript', 'WSGIHandlerScript'),
  ...refused("wsgi-host does not expand mod_macro's macros: write the expanded configuration.", 'Use'),
  // ---- not honoured: Apache would answer some requests differently, without letting more in
  ...notHonoured('only SetEnv values reach the WSGI environ in wsgi-host: use SetEnv NAME value, or read os.environ in the application.',
    'SetEnvIf', 'SetEnvIfNoCase', 'SetEnvIfExpr', 'BrowserMatch', 'BrowserMatchNoCase', 'UnsetEnv', 'PassEnv'),
  ...notHonoured('wsgi-host runs only the WSGI application itself, without authentication scripts (Require user and valid-user, which would use them, are refused): authenticate in the application.',
    'WSGIAuthUserScript', 'WSGIAuthGroupScript', 'WSGIGroupAuthoritative'),
  ...notHonoured('wsgi-host runs each application group in processes of its own, with the interpreter as Python starts it.',
    'WSGISwitchInterval', 'WSGIPerInterpreterGIL', 'WSGIFreeThreading', 'WSGIInterpreterOptions'),
  // ---- ignored: nothing the application sees changes
  ...ignored('wsgi-host has its own logging (log.error, log.access and log.level in its configuration).',
    'ErrorLog', 'CustomLog', 'TransferLog', 'LogLevel', 'LogFormat', 'ErrorLogFormat', 'BufferedLogs', 'GlobalLog'),
  ...ignored('wsgi-host loads no Apache modules; what mod_wsgi does is built in.', 'LoadModule', 'LoadFile'),
  ...ignored("Apache's own processes do not exist in wsgi-host: one Node.js front end takes the connections and the Python processes are set by WSGIDaemonProcess.",
    'StartServers', 'MinSpareServers', 'MaxSpareServers', 'MinSpareThreads', 'MaxSpareThreads', 'ServerLimit', 'ThreadLimit',
    'ThreadsPerChild', 'MaxRequestWorkers', 'MaxClients', 'MaxConnectionsPerChild', 'MaxRequestsPerChild', 'ThreadStackSize',
    'AsyncRequestWorkerFactor', 'MaxMemFree', 'ListenBacklog', 'GracefulShutdownTimeout', 'Mutex', 'PidFile', 'ScoreBoardFile',
    'CoreDumpDirectory', 'DefaultRuntimeDir', 'EnableExceptionHook', 'AcceptFilter'),
  ...ignored("wsgi-host runs as the user that starts it; WSGIDaemonProcess user= and group= set its Python processes' user.", 'User', 'Group'),
  ...ignored('wsgi-host always keeps connections alive; KeepAliveTimeout (limits.keepAliveTimeout) sets for how long.', 'KeepAlive', 'MaxKeepAliveRequests'),
  ...ignored("limits.headerTimeout, limits.bodyTimeout, limits.bodyMinRate and limits.bodyMinRateGrace are wsgi-host's equivalents: set them in its configuration.",
    'RequestReadTimeout', 'Timeout'),
  ...ignored('wsgi-host bounds the request line and headers together with limits.maxHeaderSize: set it in its configuration.',
    'LimitRequestFieldSize', 'LimitRequestLine', 'LimitXMLRequestBody'),
  ...ignored('wsgi-host serves files only from Alias directories: add Alias / /path/to/root if the document root must be served.', 'DocumentRoot'),
  ...ignored(FILES,
    'AllowOverrideList', 'DirectoryIndex', 'DirectorySlash', 'IndexOptions', 'AccessFileName', 'AddType',
    'AddCharset', 'AddDefaultCharset', 'AddLanguage', 'AddEncoding', 'TypesConfig',
    'DefaultType', 'MimeMagicFile', 'EnableSendfile', 'EnableMMAP', 'ForceType', 'ExpiresActive', 'ExpiresByType', 'ExpiresDefault',
    'FileETag', 'RemoveHandler', 'SetInputFilter'),
  ...ignored(OUTPUT_FILTERS, 'AddOutputFilter', 'AddOutputFilterByType', 'SetOutputFilter').map((r) => ({ ...r, where: ANYWHERE, run: outputFilter })),
  ...ignored('wsgi-host sends short error pages of its own; the application makes its own pages.', 'ErrorDocument'),
  ...ignored('it has no equivalent in wsgi-host.',
    'ServerAdmin', 'ServerSignature', 'ServerTokens', 'UseCanonicalName', 'UseCanonicalPhysicalPort', 'HostnameLookups',
    'NameVirtualHost', 'TraceEnable'),
  ...ignored("it tunes Apache's side of mod_wsgi, which wsgi-host replaces.",
    'WSGISocketPrefix', 'WSGISocketRotation', 'WSGIAcceptMutex', 'WSGILazyInitialization', 'WSGIVerboseDebugging',
    'WSGIDestroyInterpreter', 'WSGICaseSensitivity', 'WSGIRestrictProcess', 'WSGIServerMetrics', 'WSGIEnableSendfile',
    'WSGIIgnoreActivity', 'WSGIRestrictEmbedded', 'WSGIChunkedRequest', 'WSGIMapHEADToGET', 'WSGIErrorOverride',
    'WSGIPassApacheRequest', 'WSGIRestrictStdin', 'WSGIRestrictStdout', 'WSGIRestrictSignal', 'WSGITelemetryService',
    'WSGITelemetryOptions', 'WSGISlowRequests'),
];

/** Sections, by name: what each one is read into. Any other section is skipped, and said so. */
// biome-ignore format: aligned to be read as a table
const SECTIONS: Readonly<Record<string, SectionHandler>> = {
  VirtualHost: virtualHost,                             // host (by name; see translate/hosts.ts)
  Directory: contextSection('directory', false),        // a Scope: its settings merge into the mounts under it
  DirectoryMatch: contextSection('directory', true),
  Files: contextSection('files', false),
  FilesMatch: contextSection('files', true),
  Location: contextSection('location', false),
  LocationMatch: contextSection('location', true),
  Limit: accessSection,                                 // access lines of the enclosing section
  LimitExcept: accessSection,
  RequireAll: accessSection,
  RequireAny: accessSection,
  RequireNone: accessSection,
};

/** Directives no row names, by the start of their name; the last one catches the rest. */
// biome-ignore format: aligned to be read as a table
export const FAMILIES: readonly { prefix: string; status: 'ignored' | 'not-honoured'; refused?: true; reason: string }[] = [
  { prefix: 'SSL', status: 'ignored', reason: "it tunes mod_ssl beyond the certificates, protocols and ciphers wsgi-host takes from a configuration: Node's and OpenSSL's defaults apply." },
  { prefix: 'Rewrite', status: 'not-honoured', reason: 'wsgi-host does not rewrite URLs (RewriteRule is refused): do it in a front proxy or in the application.' },
  { prefix: 'Auth', status: 'not-honoured', reason: 'wsgi-host does no authentication (Require user, group and valid-user are refused): authenticate in the application (with WSGIPassAuthorization On it sees the Authorization header) or in a front proxy.' },
  { prefix: 'Proxy', status: 'not-honoured', reason: 'wsgi-host is not a reverse proxy (ProxyPass is refused): keep a proxy in front for those URLs.' },
  { prefix: 'WSGI', status: 'not-honoured', refused: true, reason: 'it is not a mod_wsgi directive wsgi-host knows, and Apache refuses to start with it: check its spelling, or remove it.' },
  { prefix: 'RemoteIP', status: 'not-honoured', refused: true, reason: "mod_remoteip changes the client address Require ip and Allow from check, and wsgi-host does not read its directives: write trusted-proxies and trusted-proxy-headers = [\"X-Forwarded-For\"] in a wsgi-host TOML (its access rules then check the client's address too)." },
  { prefix: 'Sec', status: 'not-honoured', refused: true, reason: "it configures mod_security, which wsgi-host does not have: keep those rules in a front proxy." },
  { prefix: '', status: 'ignored', reason: 'wsgi-host does not use it.' },
];

// ---- the rows ------------------------------------------------------------------------------------

export interface DirectiveRow {
  name: string;
  status: 'honoured' | 'not-honoured' | 'ignored';
  /**
   * Not honoured, and Apache would restrict access or send requests elsewhere with it: `serve`
   * refuses the configuration (unless --accept-apache-differences). true: always; a string: the
   * handler refuses the forms it describes ('when On').
   */
  refused?: true | string;
  /** Where Apache allows it; checked for rows with a handler. */
  where?: readonly Level[];
  run?: Handler;
  /** Where it lands in the model (documentation). */
  model?: string;
  /** Why it is not honoured, or for a handler the forms it leaves untranslated. */
  reason: string;
}

function honoured(name: string, where: readonly Level[], run: Handler, model: string, reason = ''): DirectiveRow {
  return { name, status: 'honoured', where, run, model, reason };
}

/** Not honoured; its handler says so in a note where it is used (never refused). */
function notedBy(name: string, where: readonly Level[], run: Handler, reason: string): DirectiveRow {
  return { name, status: 'not-honoured', where, run, reason };
}

/** Not honoured; its handler refuses the forms `when` describes and notes the others. */
function conditional(name: string, where: readonly Level[], run: Handler, when: string, reason: string): DirectiveRow {
  return { name, status: 'not-honoured', where, run, reason, refused: when };
}

function refused(reason: string, ...names: string[]): DirectiveRow[] {
  return names.map((name) => ({ name, status: 'not-honoured', refused: true, reason }));
}

function notHonoured(reason: string, ...names: string[]): DirectiveRow[] {
  return names.map((name) => ({ name, status: 'not-honoured', reason }));
}

function ignored(reason: string, ...names: string[]): DirectiveRow[] {
  return names.map((name) => ({ name, status: 'ignored', reason }));
}

const byKey = new Map<string, DirectiveRow>();
for (const row of DIRECTIVES) {
  if (byKey.has(row.name.toLowerCase())) throw new Error(`the Apache directive table names ${row.name} twice`);
  byKey.set(row.name.toLowerCase(), row);
}
const sectionByKey = new Map(Object.entries(SECTIONS).map(([name, run]) => [name.toLowerCase(), run]));

/** The row of a directive, by its lower-cased name: its own, else its family's. */
export function directiveRow(key: string): DirectiveRow {
  const row = byKey.get(key);
  if (row !== undefined) return row;
  const family = FAMILIES.find((f) => key.startsWith(f.prefix.toLowerCase())) as (typeof FAMILIES)[number];
  return { name: key, status: family.status, reason: family.reason, ...(family.refused ? { refused: true as const } : {}) };
}

/** Every row, for documentation and tests. */
export const directiveRows = (): readonly DirectiveRow[] => DIRECTIVES;

// ---- applying the table to the tree ---------------------------------------------------------------

/**
 * Walks the directive tree into a Site: what the configuration says, in Apache's terms. With
 * `errors` (wsgi-host check), a directive or section in error is collected there and left out, and
 * the walk goes on, so that every error of the file is reported at once.
 */
export function collectSite(read: ReadResult, mainFile: string, errors?: ConfigError[]): Site {
  const { site, ctx } = newSite(read.serverRoot, read.serverRootFromOption, mainFile);
  if (errors !== undefined) site.errors = errors;
  walk(read.nodes, ctx, site);
  return site;
}

function walk(nodes: ConfigNode[], ctx: Ctx, site: Site): void {
  for (const node of nodes) {
    collecting(site, () => {
      if (node.type === 'section') (sectionByKey.get(node.key) ?? unknownSection)(node, ctx, site, walk);
      else applyDirective(node, ctx, site);
    });
  }
}

/** Translates one directive by its row, or notes why it is not. */
function applyDirective(d: DirectiveNode, ctx: Ctx, site: Site): void {
  ctx.scope.directives.push(d);
  const row = directiveRow(d.key);
  if (row.run !== undefined) {
    checkContext(d, ctx, row.where ?? ANYWHERE);
    row.run(d, ctx, site, row.reason);
  } else if (row.status === 'ignored') {
    site.notes.ignore(d.name, row.reason, d);
  } else if (row.refused === true) {
    site.notes.refuse(`${d.name} ${d.args.join(' ')} in ${ctx.label} is not honoured: ${row.reason}`, d);
  } else {
    site.notes.add('not-honoured', `${d.name} ${d.args.join(' ')} in ${ctx.label} is not honoured: ${row.reason}`, d);
  }
}

/** Apache refuses a directive outside its contexts; so do we, saying where it may go. */
function checkContext(d: DirectiveNode, ctx: Ctx, where: readonly Level[]): void {
  if (where.includes(ctx.level)) return;
  const allowed = where
    .map((c) => (c === 'server' ? 'the server level' : c === 'vhost' ? 'a <VirtualHost>' : 'a <Directory>, <Files> or <Location>'))
    .join(' or ');
  throw apacheError(E.SYNTAX, `${d.name} is not allowed in ${ctx.label} (Apache refuses it there too)`, d, d.name, `Move it to ${allowed}`);
}
