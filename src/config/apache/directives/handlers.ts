import { didYouMean } from '../../../util/did-you-mean.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import { splitPathList } from '../paths.js';
import { type DirectiveNode, type Sourced, whereOf } from '../read/nodes.js';
import { parseListenAddress, splitServerName } from './addresses.js';
import { expectArgs, onOff, wholeNumber } from './args.js';
import type { WsgiSetting } from './scopes.js';
import type { AliasOptions, Ctx, Handler, Site } from './site.js';

/**
 * The handlers of the directives table.ts translates: each reads one directive into the Site
 * (checking its arguments, naming file:line and the fix), and notes the forms it cannot honour.
 * WSGIDaemonProcess is in daemon-options.ts beside its option table; access lines in access.ts.
 */

// ---- addresses and names ----------------------------------------------------------------------

export function listen(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 2, 'Listen [ip:]port [protocol], e.g. Listen 80 or Listen 127.0.0.1:8080');
  const address = parseListenAddress(d.args[0] as string);
  if (address === undefined) {
    throw apacheError(
      E.BAD_VALUE,
      `Listen ${d.args[0]}: not a port, ip:port or [ipv6]:port`,
      d,
      'Listen',
      'Write e.g. Listen 80, Listen 127.0.0.1:8080 or Listen [::1]:8080',
    );
  }
  site.listen.push({ value: address, at: whereOf(d) });
}

export function serverName(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'ServerName www.example.com[:port]');
  const { name, port } = splitServerName(d.args[0] as string);
  if (ctx.host === undefined) {
    site.serverName = { value: name, at: whereOf(d) };
    site.serverNamePort = port;
  } else {
    ctx.host.serverName = { value: name, at: whereOf(d) };
    ctx.host.serverNamePort = port;
  }
}

export function serverAlias(d: DirectiveNode, ctx: Ctx): void {
  expectArgs(d, 1, Infinity, 'ServerAlias example.com *.example.org');
  for (const a of d.args) ctx.host?.aliases.push({ value: splitServerName(a).name, at: whereOf(d) });
}

/** The reader follows ServerRoot (read/reader.ts); here it is only named when the option replaced it. */
export function serverRoot(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'ServerRoot /etc/httpd');
  if (ctx.serverRootFromOption && site.paths.serverRoot !== d.args[0]) {
    site.notes.add('info', `ServerRoot ${d.args[0]} is replaced by the serverRoot option (${site.paths.serverRoot}): relative paths are taken from there.`, d);
  }
}

// ---- URLs: what a request path reaches ---------------------------------------------------------

export function alias(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 2, 2, 'Alias /static /path/to/static');
  const [url, dir] = d.args as [string, string];
  if (!url.startsWith('/')) {
    site.notes.add(
      'not-honoured',
      `Alias ${url} ${dir} is not honoured: wsgi-host mounts static folders at URL prefixes starting with '/'; write Alias /${url} ${dir}.`,
      d,
    );
    return;
  }
  site.statics.push({ url, directory: site.paths.absolute(dir), at: whereOf(d), host: ctx.host?.index, order: site.counter++ });
}

const ALIAS_OPTIONS: Record<string, keyof AliasOptions> = {
  'process-group': 'processGroup',
  'application-group': 'applicationGroup',
  'callable-object': 'callable',
  'pass-authorization': 'passAuthorization',
};

/** WSGIScriptAlias URL SCRIPT [options] and WSGIScriptAliasMatch REGEX SCRIPT [options]. */
/** AllowEncodedSlashes On|Off|NoDecode: what %2F in a URL path does, server-wide or per VirtualHost. */
export function allowEncodedSlashes(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'AllowEncodedSlashes On|Off|NoDecode');
  const value = (d.args[0] as string).toLowerCase();
  if (value !== 'on' && value !== 'off' && value !== 'nodecode') {
    throw apacheError(
      E.BAD_VALUE,
      `AllowEncodedSlashes ${d.args[0]}: must be On, Off or NoDecode`,
      d,
      'AllowEncodedSlashes',
      'Write AllowEncodedSlashes Off (the default), On or NoDecode',
    );
  }
  const sourced = { value: value as 'on' | 'off' | 'nodecode', at: whereOf(d) };
  if (ctx.host === undefined) site.encodedSlashes = sourced;
  else ctx.host.encodedSlashes = sourced;
}

export function scriptAlias(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 2, 6, `${d.name} ${d.key.endsWith('match') ? '^/regex/(.*)' : '/url'} /path/to/script.wsgi [process-group=NAME application-group=NAME]`);
  const [url, target] = d.args as [string, string];
  const match = d.key === 'wsgiscriptaliasmatch';
  if (!match && !url.startsWith('/')) {
    throw apacheError(E.BAD_VALUE, `${d.name} ${url}: the URL must start with '/'`, d, d.name, `Write ${d.name} /${url} ${target}`);
  }
  site.scriptAliases.push({
    match,
    url,
    target: site.paths.absolute(target),
    at: whereOf(d),
    host: ctx.host?.index,
    order: site.counter++,
    options: parseAliasOptions(d, d.args.slice(2)),
  });
}

function parseAliasOptions(d: DirectiveNode, words: string[]): AliasOptions {
  const options: AliasOptions = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    const name = eq > 0 ? word.slice(0, eq) : word;
    const field = ALIAS_OPTIONS[name];
    if (eq <= 0 || field === undefined) {
      const guess = didYouMean(name, Object.keys(ALIAS_OPTIONS));
      throw apacheError(
        E.BAD_OPTION,
        `${d.name}: '${word}' is not an option of ${d.name}`,
        d,
        `${d.name} ${name}=`,
        word.startsWith('#')
          ? 'Apache has no comments after a directive: put the comment on a line of its own'
          : guess !== undefined
            ? `Did you mean ${guess}=?`
            : `Its options are ${Object.keys(ALIAS_OPTIONS)
                .map((o) => `${o}=`)
                .join(', ')}`,
      );
    }
    const value = word.slice(eq + 1);
    if (value === '') throw apacheError(E.BAD_VALUE, `${d.name}: ${name}= has no value`, d, `${d.name} ${name}=`, `Write ${name}=VALUE`);
    const where = whereOf(d);
    if (field === 'passAuthorization') options.passAuthorization = { value: onOff(d, value, `${d.name} ${name}=`), at: where };
    else options[field] = { value, at: where };
  }
  return options;
}

/** AddHandler wsgi-script .wsgi: files with these extensions are WSGI scripts; other handlers are ignored. */
export function addHandler(d: DirectiveNode, _ctx: Ctx, site: Site, reason: string): void {
  expectArgs(d, 2, Infinity, 'AddHandler wsgi-script .wsgi');
  if (d.args[0] !== 'wsgi-script') return site.notes.ignore(d.name, reason, d);
  for (const ext of d.args.slice(1)) site.wsgiExtensions.push({ value: ext.startsWith('.') ? ext : `.${ext}`, at: whereOf(d) });
}

export function setHandler(d: DirectiveNode, ctx: Ctx, site: Site, reason: string): void {
  expectArgs(d, 1, 1, 'SetHandler wsgi-script');
  if (d.args[0] !== 'wsgi-script') return site.notes.ignore(d.name, reason, d);
  ctx.scope.wsgiHandler = { value: true, at: whereOf(d) };
}

// ---- settings merged over sections (server, VirtualHost, Directory, Files, Location) -------------

/** WSGIProcessGroup, WSGIApplicationGroup, WSGICallableObject, WSGIPassAuthorization, WSGIScriptReloading. */
function setting(name: WsgiSetting, flag: boolean): Handler {
  return (d, ctx) => {
    expectArgs(d, 1, 1, `${d.name} ${flag ? 'On|Off' : 'VALUE'}`);
    const raw = d.args[0] as string;
    const value: Sourced<string | boolean> = { value: flag ? onOff(d, raw) : raw, at: whereOf(d) };
    ctx.scope.settings[name] = value;
  };
}

export const processGroup = setting('processGroup', false);
export const applicationGroup = setting('applicationGroup', false);
export const callableObject = setting('callable', false);
export const passAuthorization = setting('passAuthorization', true);
export const scriptReloading = setting('scriptReloading', true);

export function setEnv(d: DirectiveNode, ctx: Ctx): void {
  expectArgs(d, 1, 2, 'SetEnv NAME value');
  ctx.scope.env.set(d.args[0] as string, { value: d.args[1] ?? '', at: whereOf(d) });
}

// ---- Python: the interpreter of every group ------------------------------------------------------

export function pythonHome(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'WSGIPythonHome /path/to/venv');
  site.pythonHome = { value: site.paths.absolute(d.args[0] as string), at: whereOf(d) };
}

export function pythonPath(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'WSGIPythonPath /dir/one:/dir/two');
  site.pythonPath = { value: splitPathList(d.args[0] as string).map((p) => site.paths.absolute(p)), at: whereOf(d) };
}

/** Interpreter switches of every group, passed as the environment variables Python reads. */
function pythonEnv(variable: string, usage: string, value: (d: DirectiveNode, arg: string) => string | undefined): Handler {
  return (d, _ctx, site) => {
    expectArgs(d, 1, 1, usage);
    const v = value(d, d.args[0] as string);
    if (v === undefined) return;
    const earlier = site.pythonEnvAll.get(variable);
    const joined = variable === 'PYTHONWARNINGS' && earlier !== undefined ? `${earlier.value},${v}` : v;
    site.pythonEnvAll.set(variable, { value: joined, at: earlier?.at ?? whereOf(d) });
  };
}

const optimizeLevel = (d: DirectiveNode, arg: string): string | undefined => {
  if (!/^[0-2]$/.test(arg)) throw apacheError(E.BAD_VALUE, `WSGIPythonOptimize takes 0, 1 or 2, not '${arg}'`, d, d.name, 'Write WSGIPythonOptimize 1');
  return arg === '0' ? undefined : arg;
};

export const pythonOptimize = pythonEnv('PYTHONOPTIMIZE', 'WSGIPythonOptimize 1', optimizeLevel);
export const pythonHashSeed = pythonEnv('PYTHONHASHSEED', 'WSGIPythonHashSeed random', (_d, a) => a);
export const dontWriteBytecode = pythonEnv('PYTHONDONTWRITEBYTECODE', 'WSGIDontWriteBytecode On', (d, a) => (onOff(d, a) ? '1' : undefined));
export const pythonWarnings = pythonEnv('PYTHONWARNINGS', 'WSGIPythonWarnings ignore::DeprecationWarning', (_d, a) => a);

export function pythonEggs(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'WSGIPythonEggs /path/to/cache');
  site.pythonEnvDefault.set('PYTHON_EGG_CACHE', { value: site.paths.absolute(d.args[0] as string), at: whereOf(d) });
}

export function importScript(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 3, 'WSGIImportScript /path/to/script.wsgi process-group=NAME application-group=NAME');
  site.importScripts.push({ value: site.paths.absolute(d.args[0] as string), at: whereOf(d) });
}

// ---- limits -----------------------------------------------------------------------------------------

const LIMIT_WHAT = { keepAliveTimeout: 'keep-alive timeout', maxBodySize: 'request body limit', maxHeaderCount: 'header count limit' } as const;

/** KeepAliveTimeout, LimitRequestBody and LimitRequestFields: server-wide limits in wsgi-host. */
function limit(field: 'keepAliveTimeout' | 'maxBodySize' | 'maxHeaderCount'): Handler {
  return (d, ctx, site) => {
    expectArgs(d, 1, 1, `${d.name} NUMBER`);
    if (ctx.level !== 'server') {
      site.notes.add(
        'not-honoured',
        `${d.name} in ${ctx.label} is not honoured: wsgi-host has one ${LIMIT_WHAT[field]} for the whole server; set it at the server level.`,
        d,
      );
      return;
    }
    const raw = d.args[0] as string;
    const value = field === 'keepAliveTimeout' && raw.endsWith('ms') ? wholeNumber(d, raw.slice(0, -2)) / 1000 : wholeNumber(d, raw);
    site.limits.set(field, { value, at: whereOf(d) });
  };
}

export const keepAliveTimeout = limit('keepAliveTimeout');
export const limitRequestBody = limit('maxBodySize');
export const limitRequestFields = limit('maxHeaderCount');
