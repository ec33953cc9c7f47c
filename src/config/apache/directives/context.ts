import type { HostDecl, Scope } from './site.js';

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
  directory?: Scope['test'];
  /** Inside <Directory>, <Location>, <Files> or an access-control section. */
  accessBlock: boolean;
  /** The serverRoot option replaced ServerRoot directives. */
  serverRootFromOption: boolean;
}
