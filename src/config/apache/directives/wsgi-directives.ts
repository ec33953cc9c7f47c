import { didYouMean } from '../../../util/did-you-mean.js';
import { ConfigError, ConfigErrorCode } from '../../errors.js';
import { GROUP_NAME } from '../../schema.js';
import { expectArgs, onOff } from './args.js';
import type { Ctx } from './site.js';
import { parseDaemonOption } from './daemon-options.js';
import { ApacheErrorCode as E, apacheError, at } from '../errors.js';
import { type DirectiveNode, type Sourced, whereOf } from '../read/nodes.js';
import { splitPathList } from '../paths.js';
import type { WsgiSetting } from './scopes.js';
import type { AliasOptions, DaemonGroup, Site } from './site.js';

/** mod_wsgi's own directives. */

type Handler = (d: DirectiveNode, ctx: Ctx, site: Site) => void;

const ALIAS_OPTIONS: Record<string, keyof AliasOptions> = {
  'process-group': 'processGroup',
  'application-group': 'applicationGroup',
  'callable-object': 'callable',
  'pass-authorization': 'passAuthorization',
};

/** WSGIScriptAlias URL SCRIPT [options] and WSGIScriptAliasMatch REGEX SCRIPT [options]. */
function scriptAlias(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 2, 6, `${d.name} ${d.key.endsWith('match') ? '^/regex/(.*)' : '/url'} /path/to/script.wsgi [process-group=NAME application-group=NAME]`);
  const [url, target] = d.args as [string, string];
  const match = d.key === 'wsgiscriptaliasmatch';
  if (!match && !url.startsWith('/')) {
    throw apacheError(E.BAD_VALUE, `${d.name} ${url}: the URL must start with '/'`, d, d.name, `Write ${d.name} /${url} ${target}`);
  }
  site.scriptAliases.push({
    match, url, target: site.paths.absolute(target), at: whereOf(d), host: ctx.host?.index, order: site.counter++,
    options: parseAliasOptions(d, d.args.slice(2)),
  });
}

export function parseAliasOptions(d: DirectiveNode, words: string[]): AliasOptions {
  const options: AliasOptions = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    const name = eq > 0 ? word.slice(0, eq) : word;
    const field = ALIAS_OPTIONS[name];
    if (eq <= 0 || field === undefined) {
      const guess = didYouMean(name, Object.keys(ALIAS_OPTIONS));
      throw apacheError(E.BAD_OPTION, `${d.name}: '${word}' is not an option of ${d.name}`, d, `${d.name} ${name}=`,
        word.startsWith('#') ? 'Apache has no comments after a directive: put the comment on a line of its own'
          : guess !== undefined ? `Did you mean ${guess}=?` : `Its options are ${Object.keys(ALIAS_OPTIONS).map((o) => `${o}=`).join(', ')}`);
    }
    const value = word.slice(eq + 1);
    if (value === '') throw apacheError(E.BAD_VALUE, `${d.name}: ${name}= has no value`, d, `${d.name} ${name}=`, `Write ${name}=VALUE`);
    const where = whereOf(d);
    if (field === 'passAuthorization') options.passAuthorization = { value: onOff(d, value, `${d.name} ${name}=`), at: where };
    else options[field] = { value, at: where };
  }
  return options;
}

function daemonProcess(d: DirectiveNode, ctx: Ctx, site: Site): void {
  expectArgs(d, 1, Infinity, 'WSGIDaemonProcess NAME [option=value ...]');
  const name = d.args[0] as string;
  if (!GROUP_NAME.test(name)) {
    throw apacheError(E.BAD_VALUE, `WSGIDaemonProcess '${name}': a process group name may use letters, digits and _ . : @ - only`, d, 'WSGIDaemonProcess',
      `Rename it, e.g. WSGIDaemonProcess ${name.replace(/[^A-Za-z0-9_.:@-]/g, '_') || 'app'} (and every WSGIProcessGroup or process-group= naming it)`);
  }
  const earlier = site.groups.find((g) => g.name === name);
  if (earlier !== undefined) {
    throw new ConfigError(ConfigErrorCode.DUPLICATE_GROUP, `WSGIDaemonProcess ${name} is defined twice: here and at ${at(earlier.at)}`, {
      source: { file: d.file, line: d.line, key: 'WSGIDaemonProcess' },
      hint: `mod_wsgi needs each name once in the whole server: merge the two lines, or rename one (and the WSGIProcessGroup or process-group= naming it)`,
    });
  }
  const group: DaemonGroup = { name, at: whereOf(d), host: ctx.host?.index, fields: new Map(), env: new Map() };
  for (const word of d.args.slice(1)) applyDaemonOption(word, group, d, site);
  site.groups.push(group);
}

function applyDaemonOption(word: string, group: DaemonGroup, d: DirectiveNode, site: Site): void {
  const where = whereOf(d);
  const result = parseDaemonOption(word, group.name, where, site.paths);
  if (typeof result === 'string') {
    site.notes.add('not-honoured', `WSGIDaemonProcess ${group.name} ${word} is not honoured: ${result}.`, where);
  } else if (result.env !== undefined) {
    group.env.set(result.env, { value: String(result.value), at: where });
  } else if (result.field !== undefined) {
    group.fields.set(result.field, { value: result.value, at: where });
  }
}

/** WSGIProcessGroup, WSGIApplicationGroup, WSGICallableObject, WSGIPassAuthorization, WSGIScriptReloading. */
function setting(name: WsgiSetting, flag: boolean): Handler {
  return (d, ctx) => {
    expectArgs(d, 1, 1, `${d.name} ${flag ? 'On|Off' : 'VALUE'}`);
    const raw = d.args[0] as string;
    const value: Sourced<string | boolean> = { value: flag ? onOff(d, raw) : raw, at: whereOf(d) };
    ctx.scope.settings[name] = value;
  };
}

function pythonHome(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'WSGIPythonHome /path/to/venv');
  site.pythonHome = { value: site.paths.absolute(d.args[0] as string), at: whereOf(d) };
}

function pythonPath(d: DirectiveNode, _ctx: Ctx, site: Site): void {
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

function pythonEggs(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 1, 'WSGIPythonEggs /path/to/cache');
  site.pythonEnvDefault.set('PYTHON_EGG_CACHE', { value: site.paths.absolute(d.args[0] as string), at: whereOf(d) });
}

function importScript(d: DirectiveNode, _ctx: Ctx, site: Site): void {
  expectArgs(d, 1, 3, 'WSGIImportScript /path/to/script.wsgi process-group=NAME application-group=NAME');
  site.importScripts.push({ value: site.paths.absolute(d.args[0] as string), at: whereOf(d) });
}

const optimizeLevel = (d: DirectiveNode, arg: string): string | undefined => {
  if (!/^[0-2]$/.test(arg)) throw apacheError(E.BAD_VALUE, `WSGIPythonOptimize takes 0, 1 or 2, not '${arg}'`, d, d.name, 'Write WSGIPythonOptimize 1');
  return arg === '0' ? undefined : arg;
};

export interface HandlerSpec {
  /** Where Apache allows it: server level, in a VirtualHost, in <Directory>/<Location>/<Files>. */
  contexts: readonly ('server' | 'vhost' | 'section')[];
  run: Handler;
}

const SERVER = ['server'] as const;
const SERVER_VHOST = ['server', 'vhost'] as const;
const ANYWHERE = ['server', 'vhost', 'section'] as const;

export const WSGI_HANDLERS: Readonly<Record<string, HandlerSpec>> = {
  wsgiscriptalias: { contexts: SERVER_VHOST, run: scriptAlias },
  wsgiscriptaliasmatch: { contexts: SERVER_VHOST, run: scriptAlias },
  wsgidaemonprocess: { contexts: SERVER_VHOST, run: daemonProcess },
  wsgiprocessgroup: { contexts: ANYWHERE, run: setting('processGroup', false) },
  wsgiapplicationgroup: { contexts: ANYWHERE, run: setting('applicationGroup', false) },
  wsgicallableobject: { contexts: ANYWHERE, run: setting('callable', false) },
  wsgipassauthorization: { contexts: ANYWHERE, run: setting('passAuthorization', true) },
  wsgiscriptreloading: { contexts: ANYWHERE, run: setting('scriptReloading', true) },
  wsgipythonhome: { contexts: SERVER, run: pythonHome },
  wsgipythonpath: { contexts: SERVER, run: pythonPath },
  wsgipythoneggs: { contexts: SERVER, run: pythonEggs },
  wsgipythonoptimize: { contexts: SERVER, run: pythonEnv('PYTHONOPTIMIZE', 'WSGIPythonOptimize 1', optimizeLevel) },
  wsgipythonhashseed: { contexts: SERVER, run: pythonEnv('PYTHONHASHSEED', 'WSGIPythonHashSeed random', (_d, a) => a) },
  wsgidontwritebytecode: { contexts: SERVER, run: pythonEnv('PYTHONDONTWRITEBYTECODE', 'WSGIDontWriteBytecode On', (d, a) => (onOff(d, a) ? '1' : undefined)) },
  wsgipythonwarnings: { contexts: SERVER, run: pythonEnv('PYTHONWARNINGS', 'WSGIPythonWarnings ignore::DeprecationWarning', (_d, a) => a) },
  wsgiimportscript: { contexts: SERVER_VHOST, run: importScript },
};
