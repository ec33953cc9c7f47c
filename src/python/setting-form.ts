/**
 * How to write a setting with a value in the input the user wrote: a fix must be something they can
 * paste. `what` is how messages name a group's python-home ('--python-home', 'python-home',
 * "python-home of group 'g'", 'WSGIPythonHome', 'WSGIDaemonProcess g python-home=', '$VIRTUAL_ENV').
 */

const shellQuote = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
const apacheQuote = (v: string): string => (/[\s"]/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v);
const tomlString = (v: string): string => JSON.stringify(v);

const GROUP = /^python-(home|path) of group '(.+)'$/;
const DAEMON = /^WSGIDaemonProcess (\S+) python-(home|path)=$/;

/**
 * `what` set to value, written as in its input: `python-home = "/srv/venv"` (the message's file and
 * line say which table), `--python-home /srv/venv`, `WSGIDaemonProcess blog python-home=/srv/venv`.
 */
export function settingWithValue(what: string, value: string): string {
  if (what.startsWith('--')) return `${what} ${shellQuote(value)}`;
  if (what === 'python-home' || what === 'python-path') return `${what} = ${what === 'python-path' ? `[${tomlString(value)}]` : tomlString(value)}`;
  const g = GROUP.exec(what);
  if (g) return `python-${g[1]} = ${g[1] === 'path' ? `[${tomlString(value)}]` : tomlString(value)}`;
  const d = DAEMON.exec(what);
  if (d) return `WSGIDaemonProcess ${d[1]} python-${d[2]}=${apacheQuote(value)}`;
  if (what === 'WSGIPythonHome' || what === 'WSGIPythonPath') return `${what} ${apacheQuote(value)}`;
  if (what === '$VIRTUAL_ENV') return `VIRTUAL_ENV=${shellQuote(value)}`;
  return `${what} ${value}`;
}

/** The python-path setting of the same input and group as a python-home setting name. */
export function pythonPathSetting(homeSetting: string): string {
  if (homeSetting === '--python-home' || homeSetting === '$VIRTUAL_ENV') return '--python-path';
  if (homeSetting === 'WSGIPythonHome') return 'WSGIPythonPath';
  return homeSetting.replace(/python-home/, 'python-path');
}
