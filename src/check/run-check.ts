import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/errors.js';
import { formatSource, type LoadedConfig, locateError } from '../config/loaded-config.js';
import { WsgiHostError } from '../errors.js';
import { type EnvironmentSource, type PythonEnvironment, resolveEnvironment } from '../python/environment.js';
import { resolvePythonHome } from '../python/python-home.js';
import { pythonPathSetting } from '../python/setting-form.js';
import { missingModuleHint } from '../workers/errors.js';
import type { PythonInfo } from '../python/probe.js';
import { type PoolPlan, planServer, type ServePlan } from '../config/plan.js';
import { type Identity, lookupIdentity, runAsOf } from '../workers/user-ids.js';
import { accessProblem } from '../workers/file-access.js';
import { lintPlan } from './plan-traps.js';
import { certificateProblems } from './tls-check.js';
import { CheckCode, opt, type Problem, type Severity, where } from './problem.js';

export type { Problem, Severity };

export interface AppReport {
  kind: 'script' | 'module';
  target: string;
  callable: string;
  mounts: string[];
  imports?: boolean;
  error?: string;
  traceback?: string;
}

export interface GroupReport {
  label: string;
  group: string | null;
  applicationGroup: string;
  processes: number;
  threads: number;
  user: string | null;
  pythonHome: string | null;
  homeSource: EnvironmentSource | null;
  interpreter: string | null;
  python: PythonInfo | null;
  apps: AppReport[];
}

export interface CheckReport {
  config: string;
  listeners: string[];
  hosts: { serverName: string; aliases: string[]; default: boolean }[];
  groups: GroupReport[];
  problems: Problem[];
}

/** The report for a configuration that could not be read at all (a missing file, a syntax error). */
export function unreadableReport(label: string, errors: unknown[]): CheckReport {
  return { config: label, listeners: [], hosts: [], groups: [], problems: dedupe(errors.map((e) => problemOf(e))) };
}

/** The same finding twice (two application groups of one process group share its python-home) is shown once. */
function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = JSON.stringify([p.severity, p.code, p.where, p.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Checks a configuration as `wsgi-host check` does: nothing is served. configErrors: what loading
 * it found already (every validation error of a TOML file); planning errors are added, and the
 * rest of the configuration is checked all the same.
 */
export async function runCheck(loaded: LoadedConfig, configErrors: ConfigError[] = []): Promise<CheckReport> {
  const report = await checkLoaded(loaded, configErrors);
  report.problems = dedupe(report.problems);
  return report;
}

async function checkLoaded(loaded: LoadedConfig, configErrors: ConfigError[]): Promise<CheckReport> {
  const problems: Problem[] = [];
  const report: CheckReport = {
    config: loaded.label,
    listeners: loaded.config.listen.map((l) => `${l.host}:${l.port}`),
    hosts: loaded.config.host.map((h, i) => ({
      serverName: h.serverName,
      aliases: h.aliases,
      default: h.default || (i === 0 && !loaded.config.host.some((x) => x.default)),
    })),
    groups: [],
    problems,
  };
  for (const n of loaded.notes) {
    const where = formatSource(n);
    let severity: Severity = n.kind === 'ignored' || n.kind === 'info' ? 'info' : 'warning';
    let code: string = {
      ignored: CheckCode.APACHE_IGNORED,
      'not-honoured': CheckCode.APACHE_NOT_HONOURED,
      order: CheckCode.MOUNT_ORDER,
      info: CheckCode.APACHE_INFO,
      warning: CheckCode.WARNING,
    }[n.kind];
    // What serve refuses is an error here, unless --accept-apache-differences accepts it.
    const refused = n.refused === true && loaded.acceptDifferences !== true;
    if (refused) [severity, code] = ['error', CheckCode.APACHE_REFUSED];
    const hint = refused ? 'wsgi-host serve refuses the configuration for it: change it as said, or serve with --accept-apache-differences' : undefined;
    problems.push({ severity, code, message: n.message, ...(where ? { where } : {}), ...(hint ? { hint } : {}) });
  }
  const errors = [...configErrors];
  let plan: ServePlan;
  try {
    plan = planServer(loaded.config, loaded.baseDir, {
      homeSetting: loaded.homeSetting,
      locate: loaded.describer.locate,
      errors,
      ...(loaded.addWorkingDirectory ? { addWorkingDirectory: true } : {}),
    });
  } catch (err) {
    errors.push(err as ConfigError);
    problems.push(...errors.map((e) => problemOf(locateError(e, loaded.describer))));
    return report;
  }
  problems.push(...errors.map((e) => problemOf(locateError(e, loaded.describer))));
  lintPlan(plan, loaded, problems);
  problems.push(...(await certificateProblems(plan, loaded)));
  report.groups = await Promise.all(plan.pools.map((p) => checkPool(p, plan, loaded, problems)));
  return report;
}

function problemOf(err: unknown, severity: Severity = 'error'): Problem {
  if (err instanceof ConfigError) {
    const where = formatSource(err.source);
    return { severity, code: err.code, message: err.message, ...(where ? { where } : {}), ...(err.hint ? { hint: err.hint } : {}) };
  }
  if (err instanceof WsgiHostError) {
    return { severity, code: err.code, message: err.message, ...(err.where ? { where: err.where } : {}), ...(err.hint ? { hint: err.hint } : {}) };
  }
  return { severity, code: CheckCode.INTERNAL, message: err instanceof Error ? err.message : String(err) };
}

const ACTIVATE_THIS = /activate_this/;
const SYS_PATH_HACK = /site\.addsitedir|prev_sys_path|sys\.path\[:0\]|sys\.path\.insert\(\s*0/;

async function checkPool(pool: PoolPlan, plan: ServePlan, loaded: LoadedConfig, problems: Problem[]): Promise<GroupReport> {
  const s = pool.settings;
  const report: GroupReport = {
    label: pool.label,
    group: pool.group ?? null,
    applicationGroup: pool.applicationGroup,
    processes: s.processes,
    threads: s.threads,
    user: s.user ?? null,
    pythonHome: s.pythonHome ?? null,
    homeSource: null,
    interpreter: null,
    python: null,
    apps: pool.apps.map((a, i) => ({
      kind: a.kind,
      target: a.target,
      callable: a.callable,
      mounts: plan.mounts.filter((m) => m.pool === pool.key && m.appIndex === i).map((m) => mountName(plan, m)),
    })),
  };
  const groupIndex = pool.group === undefined ? -1 : plan.config.group.findIndex((g) => g.name === pool.group);
  const groupWhere = groupIndex >= 0 ? where(loaded, ['group', groupIndex]) : undefined;
  let who: Identity | undefined;
  if (s.user !== undefined) {
    try {
      who = lookupIdentity(s.user, s.group);
    } catch (err) {
      const p = problemOf(err);
      problems.push(groupWhere ? { ...p, where: groupWhere } : p);
    }
    if (who !== undefined && process.getuid?.() !== 0 && who.uid !== process.getuid?.()) {
      problems.push({
        severity: 'warning',
        code: CheckCode.USER_NOT_APPLIED,
        message: `group ${pool.label} names user=${s.user}, which is applied only when wsgi-host starts as root`,
        ...opt('where', groupWhere),
      });
    }
  }
  for (const app of pool.apps) {
    if (app.kind !== 'script') continue;
    const m = plan.mounts.find((x) => x.pool === pool.key && pool.apps[x.appIndex] === app);
    const appWhere = m ? where(loaded, [...m.path, 'script']) : undefined;
    const unreadable = accessProblem(app.target, 'r', who);
    if (unreadable) {
      problems.push({
        severity: 'error',
        code: CheckCode.UNREADABLE,
        message: `the WSGI script ${app.target} cannot be read by the workers of group ${pool.label}${who ? ` (user ${who.name})` : ''}: ${unreadable}`,
        ...opt('where', appWhere),
        hint: 'Make the file and its folders readable by that user (chmod o+r / g+r, o+x on folders)',
      });
      continue;
    }
    let source = '';
    try {
      source = readFileSync(app.target, 'utf8');
    } catch {
      /* reported above */
    }
    if (ACTIVATE_THIS.test(source)) {
      problems.push({
        severity: 'warning',
        code: CheckCode.ACTIVATE_THIS,
        message: `the WSGI script ${app.target} runs activate_this.py to enter a virtual environment`,
        ...opt('where', appWhere),
        hint: `Remove it and set python-home to that environment's top directory for group ${pool.label}: the workers then run its own interpreter`,
      });
    } else if (SYS_PATH_HACK.test(source)) {
      problems.push({
        severity: 'warning',
        code: CheckCode.SYS_PATH_HACK,
        message: `the WSGI script ${app.target} adds site directories or re-sorts sys.path itself (the old mod_wsgi recipe)`,
        ...opt('where', appWhere),
        hint: `Set python-home (and python-path for your own code) for group ${pool.label} instead of editing sys.path in the script`,
      });
    }
  }
  if (who !== undefined && s.pythonHome !== undefined) {
    // As that user, the probe itself would fail with EACCES: say precisely what it cannot reach.
    let interpreter: string | undefined;
    try {
      interpreter = resolvePythonHome(s.pythonHome, pool.homeSetting).interpreter;
    } catch {
      interpreter = undefined; // the probe below reports the python-home itself
    }
    const p = interpreter === undefined ? undefined : accessProblem(interpreter, 'x', who);
    if (interpreter !== undefined && p !== undefined) {
      problems.push({
        severity: 'error',
        code: CheckCode.UNREADABLE,
        message: `the interpreter ${interpreter} of group ${pool.label} cannot be run by user ${who.name}: ${p}`,
        ...opt('where', where(loaded, pool.homePath)),
        hint: 'Make the environment (and the Python it was made from) readable and its folders searchable by that user, or make the venv from a system-wide Python',
      });
      return report;
    }
  }
  let env: PythonEnvironment;
  try {
    env = await resolveEnvironment({
      pythonHome: s.pythonHome,
      what: pool.homeSetting,
      pythonPath: s.pythonPath,
      cwd: pool.cwd,
      env: pool.env,
      apps: pool.apps.map((a) => ({ kind: a.kind, target: a.target, callable: a.callable })),
      addWorkingDirectory: pool.addWorkingDirectory,
      label: pool.label,
      ...(who !== undefined && process.getuid?.() === 0 ? { runAs: runAsOf(who) } : {}),
    });
  } catch (err) {
    if (err instanceof WsgiHostError && err.where === undefined) err.where = where(loaded, pool.homePath);
    problems.push(problemOf(err));
    return report;
  }
  report.homeSource = env.source;
  report.pythonHome = env.home;
  report.interpreter = env.interpreter;
  report.python = env.info;
  if (who !== undefined) {
    const p = accessProblem(env.interpreter, 'x', who);
    if (p) {
      problems.push({
        severity: 'error',
        code: CheckCode.UNREADABLE,
        message: `the interpreter ${env.interpreter} of group ${pool.label} cannot be run by user ${who.name}: ${p}`,
        ...opt('where', where(loaded, pool.homePath)),
        hint: 'Make the environment readable and its folders searchable by that user',
      });
    }
  }
  if (env.probe.pythonPathError) {
    problems.push({ severity: 'error', code: CheckCode.PYTHON_PATH_FAILED, message: `python-path of group ${pool.label}: ${env.probe.pythonPathError}` });
  }
  env.probe.apps.forEach((a, i) => {
    const app = report.apps[i] as AppReport;
    app.imports = a.ok;
    if (!a.ok) {
      app.error = a.error ?? 'failed';
      app.traceback = a.traceback ?? '';
      const m = plan.mounts.find((x) => x.pool === pool.key && x.appIndex === i);
      problems.push({
        severity: 'error',
        code: CheckCode.APP_IMPORT_FAILED,
        message: `${app.target} (group ${pool.label}) does not load: ${app.error}`,
        ...opt('where', m ? where(loaded, m.path) : undefined),
        hint: missingModuleHint(app.error, a.missing, pythonPathSetting(pool.homeSetting), env.home) ?? 'The traceback above shows where it fails',
      });
    }
  });
  return report;
}

function mountName(plan: ServePlan, m: ServePlan['mounts'][number]): string {
  const host = m.host === undefined ? '*' : (plan.hosts[m.host]?.serverName ?? '?');
  return `${host}${m.prefix || '/'}`;
}
