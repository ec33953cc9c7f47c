import type { Where } from '../errors.js';
import type { GroupField } from './daemon-options.js';
import type { Sourced } from '../read/nodes.js';
import type { NoteCollector } from '../notes.js';
import type { PathResolver } from '../paths.js';

/**
 * What an Apache configuration says, in Apache's own terms, once read: the step between the
 * directive tree and wsgi-host's model.
 */

/** mod_wsgi settings that Apache merges from the server, VirtualHost, Directory, Files and Location contexts. */
export type WsgiSetting = 'processGroup' | 'applicationGroup' | 'callable' | 'passAuthorization' | 'scriptReloading';

export type ScopeKind = 'server' | 'vhost' | 'directory' | 'files' | 'location';

/** What a mount is tested against: its URL prefix and its script file. */
export interface MountTarget {
  url: string;
  script: string;
}

export type ScopeMatch = 'yes' | 'no' | 'partial';

/** A context whose per-directory settings apply to the mounts it matches. */
export interface Scope {
  kind: ScopeKind;
  /** The VirtualHost (declaration index) it belongs to; undefined at server level. */
  host: number | undefined;
  /** '<Location /app>', '<VirtualHost *:80>', 'server level'. */
  label: string;
  at: Where;
  /** Specificity within its kind: the most specific is merged last and wins. */
  rank: number;
  order: number;
  test: (target: MountTarget) => ScopeMatch;
  /** The URL prefix of a literal <Location>. */
  prefix?: string;
  settings: Partial<Record<WsgiSetting, Sourced<string | boolean>>>;
  /** SetEnv: extra keys of the WSGI environ. */
  env: Map<string, Sourced<string>>;
  /** SetHandler wsgi-script. */
  wsgiHandler?: Sourced<boolean>;
}

export interface HostDecl {
  index: number;
  at: Where;
  /** The address argument as written, for messages: '*:80'. */
  address: string;
  addressPort: number | undefined;
  serverName?: Sourced<string>;
  serverNamePort?: number;
  aliases: Sourced<string>[];
  scope: Scope;
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

export interface Site {
  paths: PathResolver;
  notes: NoteCollector;
  listen: Sourced<{ host: string; port: number }>[];
  serverName?: Sourced<string>;
  serverNamePort?: number;
  pythonHome?: Sourced<string>;
  pythonPath?: Sourced<string[]>;
  /** Environment of every group and the default one (WSGIPythonOptimize...). */
  pythonEnvAll: Map<string, Sourced<string>>;
  /** Environment of the default (embedded-mode) group only (WSGIPythonEggs). */
  pythonEnvDefault: Map<string, Sourced<string>>;
  limits: Map<'keepAliveTimeout' | 'maxBodySize', Sourced<number>>;
  groups: DaemonGroup[];
  hosts: HostDecl[];
  scopes: Scope[];
  scriptAliases: ScriptAliasDecl[];
  statics: StaticDecl[];
  /** AddHandler wsgi-script .ext: extensions (with the dot) run as WSGI scripts. */
  wsgiExtensions: Sourced<string>[];
  importScripts: Sourced<string>[];
  /** Declaration counter shared by scopes, aliases and statics. */
  counter: number;
}
