import { indent } from '../python/probe.js';
import type { CheckReport } from './run-check.js';

const MARK = { error: 'ERROR  ', warning: 'WARNING', info: 'info   ' } as const;

/** The check report for people. */
export function formatReport(r: CheckReport): string {
  const out: string[] = [`Configuration: ${r.config}`];
  if (r.listeners.length) out.push(`  listen: ${r.listeners.join(', ')}`);
  for (const h of r.hosts) {
    out.push(`  host: ${h.serverName}${h.aliases.length ? ` (also ${h.aliases.join(', ')})` : ''}${h.default ? ' [default]' : ''}`);
  }
  for (const g of r.groups) {
    out.push('', `Group ${g.label}: ${g.processes} process(es) x ${g.threads} thread(s)${g.user ? `, user ${g.user}` : ''}`);
    if (g.python && g.interpreter) {
      const p = g.python;
      out.push(
        `  interpreter:     ${g.interpreter} (Python ${p.version}, ${p.implementation})`,
        `  python-home:     ${g.pythonHome}${g.homeSource === 'python-home' ? '' : g.homeSource === 'VIRTUAL_ENV' ? ' (from $VIRTUAL_ENV)' : ' (the python3 on PATH)'}`,
        `  sys.prefix:      ${p.prefix}`,
        `  sys.base_prefix: ${p.base_prefix}${p.base_prefix !== p.prefix ? '  (a virtual environment)' : ''}`,
        `  site-packages:   ${p.site_packages.join(', ') || '(none)'}`,
        '  sys.path:',
        indent(p.path.map((x) => x || "'' (current directory)").join('\n'), '    '),
      );
    } else {
      out.push('  interpreter:     (not usable: see the problems below)');
    }
    out.push('  applications:');
    for (const a of g.apps) {
      const state = a.imports === undefined ? 'not checked' : a.imports ? 'imports, callable found' : `FAILS: ${a.error}`;
      out.push(`    ${a.mounts.join(', ')} -> ${a.target}${a.kind === 'script' ? ` (callable ${a.callable})` : ''}: ${state}`);
      if (a.traceback) out.push(indent(a.traceback.trimEnd(), '        '));
    }
  }
  const counts = { error: 0, warning: 0, info: 0 };
  if (r.problems.length) out.push('', 'Findings:');
  for (const p of r.problems) {
    counts[p.severity]++;
    out.push(`  ${MARK[p.severity]} [${p.code}] ${p.where ? `${p.where}: ` : ''}${p.message}`);
    if (p.hint) out.push(`          fix: ${p.hint}`);
  }
  out.push('', `${counts.error} error(s), ${counts.warning} warning(s), ${counts.info} note(s)`);
  return `${out.join('\n')}\n`;
}
