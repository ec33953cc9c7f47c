import { parseListenAddress, splitServerName } from './addresses.js';
import { expectArgs, wholeNumber } from './args.js';
import type { Ctx } from './site.js';
import { dispositionOf } from './directive-table.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import { type DirectiveNode, whereOf } from '../read/nodes.js';
import type { Site } from './site.js';
import type { HandlerSpec } from './wsgi-directives.js';

/** The Apache core directives that carry over: addresses, names, Alias, SetEnv, a few limits. */

function listen(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 2, 'Listen [ip:]port [protocol], e.g. Listen 80 or Listen 127.0.0.1:8080');
  const address = parseListenAddress(d.args[0] as string);
  if (address === undefined) {
    throw apacheError(E.BAD_VALUE, `Listen ${d.args[0]}: not a port, ip:port or [ipv6]:port`, d, 'Listen', 'Write e.g. Listen 80, Listen 127.0.0.1:8080 or Listen [::1]:8080');
  }
  site.listen.push({ value: address, at: whereOf(d) });
}

function serverName(d: DirectiveNode, ctx: Ctx, site: Site): void {
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

function serverAlias(d: DirectiveNode, ctx: Ctx): void {
  expectArgs(d, 1, Infinity, 'ServerAlias example.com *.example.org');
  for (const a of d.args) ctx.host?.aliases.push({ value: splitServerName(a).name, at: whereOf(d) });
}

function serverRoot(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'ServerRoot /etc/httpd');
  if (ctx.serverRootFromOption && site.paths.serverRoot !== d.args[0]) {
    site.notes.add('info', `ServerRoot ${d.args[0]} is replaced by the serverRoot option (${site.paths.serverRoot}): relative paths are taken from there.`, d);
  }
}

function alias(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 2, 2, 'Alias /static /path/to/static');
  const [url, dir] = d.args as [string, string];
  if (!url.startsWith('/')) {
    site.notes.add('not-honoured', `Alias ${url} ${dir} is not honoured: wsgi-host mounts static folders at URL prefixes starting with '/'; write Alias /${url} ${dir}.`, d);
    return;
  }
  site.statics.push({ url, directory: site.paths.absolute(dir), at: whereOf(d), host: ctx.host?.index, order: site.counter++ });
}

function setEnv(d: DirectiveNode, ctx: Ctx): void {
  expectArgs(d, 1, 2, 'SetEnv NAME value');
  ctx.scope.env.set(d.args[0] as string, { value: d.args[1] ?? '', at: whereOf(d) });
}

/** AddHandler wsgi-script .wsgi: files with these extensions are WSGI scripts; other handlers are ignored. */
function addHandler(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 2, Infinity, 'AddHandler wsgi-script .wsgi');
  if (d.args[0] !== 'wsgi-script') return site.notes.ignore(d.name, dispositionOf(d.key).reason, d);
  for (const ext of d.args.slice(1)) site.wsgiExtensions.push({ value: ext.startsWith('.') ? ext : `.${ext}`, at: whereOf(d) });
}

function setHandler(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'SetHandler wsgi-script');
  if (d.args[0] !== 'wsgi-script') return site.notes.ignore(d.name, dispositionOf(d.key).reason, d);
  ctx.scope.wsgiHandler = { value: true, at: whereOf(d) };
}

/** KeepAliveTimeout and LimitRequestBody: server-wide limits in wsgi-host. */
function limit(field: 'keepAliveTimeout' | 'maxBodySize'): HandlerSpec['run'] {
  return (d, ctx, site) => {
    expectArgs(d, 1, 1, `${d.name} NUMBER`);
    if (ctx.level !== 'server') {
      site.notes.add('not-honoured', `${d.name} in ${ctx.label} is not honoured: wsgi-host has one ${field === 'maxBodySize' ? 'request body limit' : 'keep-alive timeout'} for the whole server; set it at the server level.`, d);
      return;
    }
    const raw = d.args[0] as string;
    const value = field === 'keepAliveTimeout' && raw.endsWith('ms') ? wholeNumber(d, raw.slice(0, -2)) / 1000 : wholeNumber(d, raw);
    site.limits.set(field, { value, at: whereOf(d) });
  };
}

const SERVER = ['server'] as const;
const SERVER_VHOST = ['server', 'vhost'] as const;
const ANYWHERE = ['server', 'vhost', 'section'] as const;

export const CORE_HANDLERS: Readonly<Record<string, HandlerSpec>> = {
  listen: { contexts: SERVER, run: listen },
  servername: { contexts: SERVER_VHOST, run: serverName },
  serveralias: { contexts: ['vhost'], run: serverAlias },
  serverroot: { contexts: SERVER, run: serverRoot },
  alias: { contexts: SERVER_VHOST, run: alias },
  setenv: { contexts: ANYWHERE, run: setEnv },
  addhandler: { contexts: ANYWHERE, run: addHandler },
  sethandler: { contexts: ANYWHERE, run: setHandler },
  keepalivetimeout: { contexts: SERVER_VHOST, run: limit('keepAliveTimeout') },
  limitrequestbody: { contexts: ANYWHERE, run: limit('maxBodySize') },
};
