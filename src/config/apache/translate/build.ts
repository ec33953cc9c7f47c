import type { ServerConfigInput } from '../../schema.js';
import type { Site } from '../directives/site.js';
import { addAdvice } from './advice.js';
import { buildGroups } from './groups.js';
import { planHosts } from './hosts.js';
import { buildRoutes } from './routes.js';
import { SourceMap } from './sources.js';

/** Turns what the Apache configuration says into wsgi-host's model, recording each value's source. */
export function buildConfig(site: Site, mainFile: string): { config: ServerConfigInput; sources: SourceMap } {
  const src = new SourceMap();
  const config: ServerConfigInput = {};
  buildListen(site, config, src);
  buildPython(site, config, src);
  const plan = planHosts(site);
  const mounts = buildRoutes(site, plan, config, src);
  buildGroups(site, mounts, config, src);
  buildLimits(site, config, src);
  addAdvice(site, mounts, plan, mainFile);
  return { config, sources: src };
}

function buildListen(site: Site, config: ServerConfigInput, src: SourceMap): void {
  if (site.listen.length === 0) return;
  config.listen = site.listen.map((l, i) => {
    src.set(['listen', i], l.at);
    return { host: l.value.host, port: l.value.port };
  });
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
