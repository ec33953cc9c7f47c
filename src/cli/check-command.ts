import { formatReport } from '../check/format-report.js';
import { type CheckReport, runCheck, unreadableReport } from '../check/run-check.js';
import { type ConfigError, ConfigErrorCode as C } from '../config/errors.js';
import { WsgiHostError } from '../errors.js';
import { parseCommand } from './args.js';
import { INPUT_OPTIONS, loadInput } from './config-input.js';

export const CHECK_HELP = `Usage: wsgi-host check (-c FILE | --apache FILE | SCRIPT [serve options]) [--json]

Check a configuration without serving it. For each process group, start its interpreter and
show the interpreter, Python version, sys.prefix and sys.base_prefix, site-packages, the
resulting sys.path, and whether each mounted application imports and has its callable. Then
list the traps mod_wsgi users fall into: a python-home that is not a directory, is bin/python or
a site-packages folder; a python-path naming a version-bound site-packages; a script that runs
activate_this.py or re-sorts sys.path; a group no mount uses; a mount that lands in the default
group although groups exist; files the group's user cannot read; shadowed or overlapping mounts;
Apache directives ignored or not honoured, and WSGIScriptAlias order that mod_wsgi reads differently.
What serve would refuse (directives restricting access or routing requests in ways wsgi-host
cannot honour) is listed all at once, as errors (warnings with --accept-apache-differences).

  --json       the report as JSON, for tools
  -h, --help   show this help

Every error of the configuration is reported at once, with the file, line and fix of each.

Exit status: 0 no error (warnings and notes allowed), 1 errors found (in the configuration, an
environment or an application), 2 the command line itself is wrong (an unknown flag).
`;

export async function checkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('check', argv, { ...INPUT_OPTIONS, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  const json = values.json === true;
  delete values.json;
  const errors: ConfigError[] = [];
  let report: CheckReport;
  try {
    const loaded = await loadInput('check', values, positionals, errors);
    report = await runCheck(loaded, errors);
  } catch (err) {
    // A command line that cannot be understood is a usage error (exit 2); a configuration that
    // cannot be read or used is what check reports (exit 1), as a finding.
    if (!(err instanceof WsgiHostError) || err.code === C.BAD_FLAG) throw err;
    report = unreadableReport(
      String(values.config ?? values.apache ?? positionals[0] ?? 'command-line flags'),
      errors.includes(err as ConfigError) ? errors : [...errors, err],
    );
  }
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.problems.some((p) => p.severity === 'error') ? 1 : 0;
}
