import type { ServerConfigInput } from '../../schema.js';
import type { Site } from '../directives/site.js';
import type { Where } from '../errors.js';
import { addAdvice } from './advice.js';
import { buildGroups } from './groups.js';
import { listenersFromHosts, planHosts } from './hosts.js';
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
  derived.forEach((_l, i) => src.set(['listen', i], (site.hosts[0] as Site['hosts'][number]).at));
  const shown = derived.map((l) => (l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`)).join(', ');
  site.notes.add('info', `The configuration has no Listen directive (Debian keeps them in ports.conf, which a site file does not include): wsgi-host listens on the addresses its VirtualHosts name, ${shown}; add Listen directives, or serve the file that includes ports.conf, to choose.`, { file: mainFile, line: 1 });
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
    site.pythonPath.value.forEach((_p, i) => src.set(['pythonPath', i], (site.pythonPath as NonNullable<Site['pythonPath']>).at));
  }
}

function buildLimits(site: Site, config: ServerConfigInput, src: SourceMap): void {
  if (site.limits.size === 0) return;
  config.limits = {};
  for (const [field, v] of site.limits) {
    config.limits[field] = v.value;
    src.set(['limits', field], v.at);
  }
}
