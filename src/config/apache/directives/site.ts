import { ConfigError } from '../../errors.js';
import type { z } from 'zod';
import type { EncodedSlashesSetting, GroupSettingsSchema } from '../../schema.js';
import type { Where } from '../errors.js';
import { NoteCollector } from '../notes.js';
import { PathResolver } from '../paths.js';
import type { ConfigNode, DirectiveNode, SectionNode, Sourced } from '../read/nodes.js';
import { newScope, type Scope } from './scopes.js';

/**
 * What an Apache configuration says, in Apache's own terms, once read: the step between the
 * directive tree and wsgi-host's model. The directive handlers fill it; translate/ reads it.
 */

/** A setting of a process group, as the model names it (processes, pythonHome...). */
export type GroupField = keyof z.input<typeof GroupSettingsSchema>;

/** mod_ssl's settings (and Protocols) of the main server or of one <VirtualHost> (ssl.ts). */
export interface SslDecl {
  engine?: Sourced<boolean>;
  certificate?: Sourced<string>;
  key?: Sourced<string>;
  chain?: Sourced<string>;
  /** SSLProtocol's arguments as written. */
  protocol?: Sourced<string[]>;
  /** SSLCipherSuite for TLS 1.2 and below. */
  ciphers?: Sourced<string>;
  /** Protocols (h2, http/1.1): the ALPN list. */
  protocols?: Sourced<string[]>;
  /** SSLRequireSSL lines in sections of this host (or the server level's). */
  requireSsl: Where[];
}

export interface HostDecl {
  index: number;
  at: Where;
  /** The address argument as written, for messages: '*:80'. */
  address: string;
  addressPort: number | undefined;
  serverName?: Sourced<string>;
  serverNamePort?: number | undefined;
  aliases: Sourced<string>[];
  scope: Scope;
  /** AllowEncodedSlashes in this VirtualHost. */
  encodedSlashes?: Sourced<EncodedSlashesSetting>;
  ssl: SslDecl;
}

export interface AliasOptions {
  processGroup?: Sourced<string>;
  applicationGroup?: Sourced<string>;
  callable?: Sourced<string>;
  passAuthorization?: Sourced<boolean>;
}

export interface ScriptAliasDecl {
  match: boolean;
  /** The URL (WSGIScriptAlias) or regular expression (WSGIScriptAliasMatch) as written. */
  url: string;
  /** Absolute script (or folder); for a Match, may hold $1. */
  target: string;
  at: Where;
  host: number | undefined;
  order: number;
  options: AliasOptions;
}

export interface StaticDecl {
  url: string;
  directory: string;
  at: Where;
  host: number | undefined;
  order: number;
}

export interface DaemonGroup {
  name: string;
  at: Where;
  host: number | undefined;
  fields: Map<GroupField, Sourced<unknown>>;
  env: Map<string, Sourced<string>>;
}

/** A WSGITrustedProxies or WSGITrustedProxyHeaders line: at the server level or in a VirtualHost (its declaration index). */
export interface ProxySetting {
  place: 'server' | number;
  value: string[];
  at: Where;
}

export interface Site {
  paths: PathResolver;
  notes: NoteCollector;
  /** wsgi-host check: errors collected here, the walk going on without what is in error (table.ts). */
  errors?: ConfigError[];
  listen: Sourced<{ host: string; port: number }>[];
  serverName?: Sourced<string>;
  serverNamePort?: number | undefined;
  pythonHome?: Sourced<string>;
  pythonPath?: Sourced<string[]>;
  /** Environment of every group and the default one (WSGIPythonOptimize...). */
  pythonEnvAll: Map<string, Sourced<string>>;
  /** Environment of the default (embedded-mode) group only (WSGIPythonEggs). */
  pythonEnvDefault: Map<string, Sourced<string>>;
  limits: Map<'keepAliveTimeout' | 'maxBodySize' | 'maxHeaderCount', Sourced<number>>;
  /** AllowEncodedSlashes at server level. */
  encodedSlashes?: Sourced<EncodedSlashesSetting>;
  /** mod_ssl at the server level: what VirtualHosts inherit, and the main server's. */
  ssl: SslDecl;
  groups: DaemonGroup[];
  hosts: HostDecl[];
  scopes: Scope[];
  scriptAliases: ScriptAliasDecl[];
  statics: StaticDecl[];
  /** AddHandler wsgi-script .ext: extensions (with the dot) run as WSGI scripts. */
  wsgiExtensions: Sourced<string>[];
  importScripts: Sourced<string>[];
  /** WSGITrustedProxies lines (CIDR ranges), in order. */
  trustedProxies: ProxySetting[];
  /** WSGITrustedProxyHeaders lines (the catalog's spelling), in order. */
  trustedProxyHeaders: ProxySetting[];
  /** Declaration counter shared by scopes, aliases and statics. */
  counter: number;
}

/** Where a directive stands while the tree is walked. */
export type Level = 'server' | 'vhost' | 'section';

export interface Ctx {
  level: Level;
  host: HostDecl | undefined;
  /** The context WSGI settings and SetEnv go to. */
  scope: Scope;
  /** The innermost section for messages: '<Location /app>', '<VirtualHost *:80>', 'the server level'. */
  label: string;
  /** Inside <Directory>: its test, for a <Files> nested in it. */
  directory?: Scope['test'] | undefined;
  /** Inside <Directory>, <Location>, <Files> or an access-control section. */
  accessBlock: boolean;
  /** The serverRoot option replaced ServerRoot directives. */
  serverRootFromOption: boolean;
}

/**
 * Reads one directive into the Site (table.ts says which handler a directive has). `reason` is
 * the table row's, for the forms of the directive the handler leaves untranslated.
 */
export type Handler = (d: DirectiveNode, ctx: Ctx, site: Site, reason: string) => void;

/** Walks nodes (a section's children) in a context. */
export type Walk = (nodes: ConfigNode[], ctx: Ctx, site: Site) => void;

/** Reads one section and, through `walk`, what is inside it. */
export type SectionHandler = (s: SectionNode, ctx: Ctx, site: Site, walk: Walk) => void;

/** An empty Site and the walk's starting point: the server level of the main file. */
export function newSite(serverRoot: string, serverRootFromOption: boolean, mainFile: string): { site: Site; ctx: Ctx } {
  const serverScope = newScope('server', undefined, 'the server configuration', { file: mainFile, line: 1 }, 0);
  const site: Site = {
    paths: new PathResolver(serverRoot),
    notes: new NoteCollector(),
    listen: [],
    pythonEnvAll: new Map(),
    pythonEnvDefault: new Map(),
    limits: new Map(),
    ssl: { requireSsl: [] },
    groups: [],
    hosts: [],
    scopes: [serverScope],
    scriptAliases: [],
    statics: [],
    wsgiExtensions: [],
    importScripts: [],
    trustedProxies: [],
    trustedProxyHeaders: [],
    counter: 1,
  };
  const ctx: Ctx = {
    level: 'server',
    host: undefined,
    scope: serverScope,
    label: 'the server configuration',
    accessBlock: false,
    serverRootFromOption,
  };
  return { site, ctx };
}

/** Runs one step; in wsgi-host check (site.errors), a ConfigError it throws is collected and the walk goes on. */
export function collecting(site: Site, step: () => void): void {
  try {
    step();
  } catch (err) {
    if (site.errors === undefined || !(err instanceof ConfigError)) throw err;
    site.errors.push(err);
  }
}
