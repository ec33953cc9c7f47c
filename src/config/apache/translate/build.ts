import type { ServerConfigInput } from '../../schema.js';
import type { Site } from '../directives/site.js';
import type { Where } from '../errors.js';
import { addAdvice } from './advice.js';
import { buildGroups } from './groups.js';
import { type HostPlan, listenersFromHosts, planHosts } from './hosts.js';
import { buildRoutes } from './routes.js';
import { SourceMap } from './sources.js';

/**
 * Turns what the Apache configuration says into wsgi-host's model, recording each value's source.
 * `noListen`: the configuration names no address to listen on (no Listen, no VirtualHost port).
 */
export function buildConfig(site: Site, mainFile: string): { config: ServerConfigInput; sources: SourceMap; noListen?: Where } {
  const src = new SourceMap();
  const config: ServerConfigInput = {};
  const listeners = buildListen(site, config, src, mainFile);
  buildPython(site, config, src);
  const plan = planHosts(site, listeners ?? []);
  const mounts = buildRoutes(site, plan, config, src);
  buildGroups(site, mounts, config, src);
  buildLimits(site, config, src);
  buildEncodedSlashes(site, plan, config, src);
  addAdvice(site, mounts, plan);
  return { config, sources: src, ...(listeners === undefined ? { noListen: { file: mainFile, line: 1 } } : {}) };
}

/** Listen directives; without any, the addresses of the VirtualHosts (said in a note); else none. */
function buildListen(site: Site, config: ServerConfigInput, src: SourceMap, mainFile: string): { host: string; port: number }[] | undefined {
  if (site.listen.length > 0) {
    config.listen = site.listen.map((l, i) => {
      src.set(['listen', i], l.at);
      return { host: l.value.host, port: l.value.port };
    });
    return config.listen as { host: string; port: number }[];
  }
  const derived = listenersFromHosts(site);
  if (derived === undefined) return undefined;
  config.listen = derived;
  derived.forEach((_l, i) => {
    src.set(['listen', i], (site.hosts[0] as Site['hosts'][number]).at);
  });
  const shown = derived.map((l) => (l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`)).join(', ');
  site.notes.add(
    'info',
    `The configuration has no Listen directive (Debian keeps them in ports.conf, which a site file does not include): wsgi-host listens on the addresses its VirtualHosts name, ${shown}; add Listen directives, or serve the file that includes ports.conf, to choose.`,
    { file: mainFile, line: 1 },
  );
  return derived;
}

function buildPython(site: Site, config: ServerConfigInput, src: SourceMap): void {
  if (site.pythonHome !== undefined) {
    config.pythonHome = site.pythonHome.value;
    src.set(['pythonHome'], site.pythonHome.at);
  }
  if (site.pythonPath !== undefined) {
    config.pythonPath = site.pythonPath.value;
    src.set(['pythonPath'], site.pythonPath.at);
    site.pythonPath.value.forEach((_p, i) => {
      src.set(['pythonPath', i], (site.pythonPath as NonNullable<Site['pythonPath']>).at);
    });
  }
}

/** From strictest to most lenient. */
const STRICTNESS = ['off', 'nodecode', 'on'] as const;

/**
 * AllowEncodedSlashes: the server level's at the top; a VirtualHost's own in its host (one without
 * inherits the server level's, as in Apache 2.4). VirtualHosts served as one host (the same
 * ServerName) get the strictest of their settings, never a weaker one.
 */
function buildEncodedSlashes(site: Site, plan: HostPlan, config: ServerConfigInput, src: SourceMap): void {
  const server = site.encodedSlashes;
  if (server !== undefined) {
    config.allowEncodedSlashes = server.value;
    src.set(['allowEncodedSlashes'], server.at);
  }
  plan.hosts.forEach((h, i) => {
    if (!h.decls.some((d) => d.encodedSlashes !== undefined)) return;
    const effective = h.decls.map((d) => d.encodedSlashes ?? server ?? { value: 'off' as const, at: d.at });
    const strictest = effective.reduce((a, b) => (STRICTNESS.indexOf(b.value) < STRICTNESS.indexOf(a.value) ? b : a));
    if (effective.some((e) => e.value !== strictest.value)) {
      site.notes.add(
        'info',
        `The VirtualHosts named ${h.serverName.value} have different AllowEncodedSlashes settings; wsgi-host serves them as one host, with the strictest (${strictest.value}).`,
        strictest.at,
      );
    }
    const host = (config.host ?? [])[i];
    if (host === undefined) return;
    host.allowEncodedSlashes = strictest.value;
    src.set(['host', i, 'allowEncodedSlashes'], strictest.at);
  });
}

function buildLimits(site: Site, config: ServerConfigInput, src: SourceMap): void {
  if (site.limits.size === 0) return;
  config.limits = {};
  for (const [field, v] of site.limits) {
    config.limits[field] = v.value;
    src.set(['limits', field], v.at);
  }
}
