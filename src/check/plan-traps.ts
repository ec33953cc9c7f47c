/** The mod_wsgi traps `wsgi-host check` finds in a plan without running an interpreter. */
import type { LoadedConfig } from '../config/loaded-config.js';
import type { PoolPlan, ServePlan } from '../config/plan.js';
import { settingWithValue } from '../python/setting-form.js';
import { CheckCode, opt, type Problem, where } from './problem.js';

const SITE_PACKAGES_PATH = /[\\/]lib(64)?[\\/](python|pypy)\d+(\.\d+)?[\\/](site|dist)-packages[\\/]?$/;

/** The traps that need no interpreter: unused groups, mounts in the default group, paths. */
export function lintPlan(plan: ServePlan, loaded: LoadedConfig, problems: Problem[]): void {
  const config = plan.config;
  const used = new Set(plan.pools.map((p) => p.group).filter((g) => g !== undefined));
  config.group.forEach((g, i) => {
    if (!used.has(g.name)) {
      problems.push({
        severity: 'warning',
        code: CheckCode.UNUSED_GROUP,
        message: `process group '${g.name}' is defined but no mount uses it: its processes would never serve a request`,
        ...opt('where', where(loaded, ['group', i])),
        hint: `Mount an application in it (process-group=${g.name} / group = "${g.name}"), or remove it`,
      });
    }
  });
  if (config.group.length > 0) {
    for (const m of plan.mounts) {
      const pool = plan.pools.find((p) => p.key === m.pool) as PoolPlan;
      if (pool.group !== undefined) continue;
      problems.push({
        severity: 'warning',
        code: CheckCode.DEFAULT_GROUP_MOUNT,
        message:
          `mount '${m.prefix || '/'}' runs in the default group although process groups are defined (${config.group.map((g) => g.name).join(', ')}): ` +
          `their python-home does not apply to it (mod_wsgi's silent "python-home never applied")`,
        ...opt('where', where(loaded, m.path)),
        hint: `Put it in a group: process-group=${config.group[0]?.name} on the WSGIScriptAlias (or group = "${config.group[0]?.name}")`,
      });
    }
  }
  const pathLists: [(string | number)[], string[], string, string][] = [[['pythonPath'], config.pythonPath, 'python-path', loaded.homeSetting(undefined)]];
  config.group.forEach((g, i) => {
    pathLists.push([['group', i, 'pythonPath'], g.pythonPath, `python-path of group '${g.name}'`, loaded.homeSetting(g.name)]);
  });
  for (const [path, list, what, homeSetting] of pathLists) {
    list.forEach((entry, j) => {
      const m = SITE_PACKAGES_PATH.exec(entry);
      if (m === null) return;
      const top = entry.slice(0, m.index);
      problems.push({
        severity: 'warning',
        code: CheckCode.PYTHON_PATH_SITE_PACKAGES,
        message: `${what} names the version-bound site-packages folder ${entry}: it breaks when that environment's Python version changes, and the rest of the environment does not apply`,
        ...opt('where', where(loaded, [...path, j])),
        hint: `Use ${settingWithValue(homeSetting, top)} (the environment's top directory) instead`,
      });
    });
  }
  // Shadowed and overlapping mounts.
  const scopes = new Map<string, typeof plan.mounts>();
  for (const m of plan.mounts) {
    const key = m.host === undefined ? 'global' : String(m.host);
    scopes.set(key, [...(scopes.get(key) ?? []), m]);
  }
  for (const m of plan.mounts.filter((x) => x.host === undefined)) {
    for (const h of plan.mounts.filter((x) => x.host !== undefined && x.prefix === m.prefix)) {
      problems.push({
        severity: 'warning',
        code: CheckCode.SHADOWED_MOUNT,
        message: `the server-wide mount '${m.prefix || '/'}' is never used in host ${plan.hosts[h.host as number]?.serverName}: that host mounts another application at the same prefix`,
        ...opt('where', where(loaded, m.path)),
        hint: 'Mount it in the hosts that should have it, or give it another prefix',
      });
    }
  }
  for (const list of scopes.values()) {
    for (const outer of list) {
      for (const inner of list) {
        if (outer === inner || outer.pool === inner.pool) continue;
        if (outer.prefix !== '' && !inner.prefix.startsWith(`${outer.prefix}/`)) continue;
        if (outer.prefix === '' && inner.prefix === '') continue;
        problems.push({
          severity: 'info',
          code: CheckCode.NESTED_MOUNT,
          message: `'${inner.prefix}' is served by group ${label(plan, inner.pool)} and the rest of '${outer.prefix || '/'}' by group ${label(plan, outer.pool)}`,
          ...opt('where', where(loaded, inner.path)),
        });
      }
    }
  }
  for (const s of plan.statics) {
    for (const m of plan.mounts.filter((x) => x.host === s.host || x.host === undefined || s.host === undefined)) {
      if (m.prefix === s.prefix) {
        problems.push({
          severity: 'warning',
          code: CheckCode.SHADOWED_MOUNT,
          message: `the static alias '${s.prefix}' and an application mount share the same prefix; the longest-prefix rule cannot tell them apart`,
          ...opt('where', where(loaded, m.path)),
          hint: 'Give the static files their own prefix, e.g. /static',
        });
      }
    }
  }
}

function label(plan: ServePlan, key: string): string {
  return plan.pools.find((p) => p.key === key)?.label ?? key;
}
