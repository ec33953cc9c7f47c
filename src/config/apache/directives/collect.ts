import type { Ctx } from './site.js';
import { handleDirective } from './directives.js';
import type { ConfigNode } from '../read/nodes.js';
import { NoteCollector } from '../notes.js';
import { PathResolver } from '../paths.js';
import type { ReadResult } from '../read/reader.js';
import { newScope } from './scopes.js';
import { handleSection } from './sections.js';
import type { Site } from './site.js';

/** Walks the directive tree into a Site: what the configuration says, in Apache's terms. */
export function collectSite(read: ReadResult, mainFile: string): Site {
  const serverScope = newScope('server', undefined, 'the server configuration', { file: mainFile, line: 1 }, 0);
  const site: Site = {
    paths: new PathResolver(read.serverRoot),
    notes: new NoteCollector(),
    listen: [],
    pythonEnvAll: new Map(),
    pythonEnvDefault: new Map(),
    limits: new Map(),
    groups: [],
    hosts: [],
    scopes: [serverScope],
    scriptAliases: [],
    statics: [],
    wsgiExtensions: [],
    importScripts: [],
    counter: 1,
  };
  const ctx: Ctx = {
    level: 'server', host: undefined, scope: serverScope, label: 'the server configuration', accessBlock: false,
    serverRootFromOption: read.serverRootFromOption,
  };
  walk(read.nodes, ctx, site);
  return site;
}

function walk(nodes: ConfigNode[], ctx: Ctx, site: Site): void {
  for (const node of nodes) {
    if (node.type === 'section') handleSection(node, ctx, site, walk);
    else handleDirective(node, ctx, site);
  }
}
