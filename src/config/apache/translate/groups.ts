import type { z } from 'zod';
import type { GroupSchema, ServerConfigInput } from '../../schema.js';
import { MOD_WSGI_DEFAULT_THREADS } from '../directives/daemon-options.js';
import type { Site } from '../directives/site.js';
import { at } from '../errors.js';
import type { Sourced } from '../read/nodes.js';
import type { ResolvedMount } from './mounts.js';
import type { SourceMap } from './sources.js';

/** The process groups (WSGIDaemonProcess) and the default group (mod_wsgi's embedded mode). */

type GroupInput = z.input<typeof GroupSchema>;

export function buildGroups(site: Site, mounts: ResolvedMount[], config: ServerConfigInput, src: SourceMap): void {
  const reloading = scriptReloadingByGroup(site, mounts);
  if (site.groups.length > 0) config.group = site.groups.map((g, i) => groupOutput(g, i, site, reloading.get(g.name), src));
  const env = mergeEnv([site.pythonEnvAll, site.pythonEnvDefault], ['defaultGroup', 'env'], src);
  const reload = reloading.get('');
  if (Object.keys(env).length > 0 || reload !== undefined) {
    config.defaultGroup = {};
    if (Object.keys(env).length > 0) config.defaultGroup.env = env;
    if (reload !== undefined) {
      config.defaultGroup.scriptReloading = reload.value;
      src.set(['defaultGroup', 'scriptReloading'], reload.at);
    }
  }
}

function groupOutput(g: Site['groups'][number], i: number, site: Site, reload: Sourced<boolean> | undefined, src: SourceMap): GroupInput {
  const out: Record<string, unknown> = { name: g.name };
  src.set(['group', i], g.at);
  src.set(['group', i, 'name'], g.at);
  for (const [field, v] of g.fields) {
    out[field] = v.value;
    src.set(['group', i, field], v.at);
  }
  if (!g.fields.has('threads')) {
    out.threads = MOD_WSGI_DEFAULT_THREADS;
    src.set(['group', i, 'threads'], g.at);
  }
  const env = mergeEnv([site.pythonEnvAll, g.env], ['group', i, 'env'], src);
  if (Object.keys(env).length > 0) out.env = env;
  if (reload !== undefined) {
    out.scriptReloading = reload.value;
    src.set(['group', i, 'scriptReloading'], reload.at);
  }
  return out as GroupInput;
}

function mergeEnv(maps: Map<string, Sourced<string>>[], path: (string | number)[], src: SourceMap): Record<string, string> {
  const env: Record<string, string> = {};
  for (const map of maps) {
    for (const [k, v] of map) {
      env[k] = v.value;
      src.set([...path, k], v.at);
    }
  }
  return env;
}

/**
 * WSGIScriptReloading: at server level it applies to every group; in a narrower context, to the
 * group of the mounts it covers (wsgi-host reloads per group, so one group cannot have both).
 * Keyed by group name, '' for the default group.
 */
function scriptReloadingByGroup(site: Site, mounts: ResolvedMount[]): Map<string, Sourced<boolean>> {
  const server = site.scopes[0]?.settings.scriptReloading as Sourced<boolean> | undefined;
  const byGroup = new Map<string, Sourced<boolean>>();
  if (server !== undefined) for (const name of ['', ...site.groups.map((g) => g.name)]) byGroup.set(name, server);
  const narrower = new Map<string, Sourced<boolean>>();
  for (const m of mounts) {
    const v = m.scriptReloading;
    if (v === undefined || v === server) continue;
    const key = m.group?.value ?? '';
    const earlier = narrower.get(key);
    if (earlier !== undefined && earlier.value !== v.value) {
      site.notes.add(
        'not-honoured',
        `WSGIScriptReloading ${v.value ? 'On' : 'Off'} for ${m.candidate.label} is not honoured: wsgi-host reloads a whole process group, and WSGIScriptReloading at ${at(earlier.at)} already set it ${earlier.value ? 'On' : 'Off'} for ${key === '' ? 'the default group' : `group ${key}`}; give the two applications different process groups to reload them differently.`,
        v.at,
      );
      continue;
    }
    narrower.set(key, v);
    byGroup.set(key, v);
  }
  return byGroup;
}
