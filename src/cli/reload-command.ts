import { adminAddress } from '../admin/admin-address.js';
import { adminRequest } from '../admin/admin-client.js';
import { parseCommand } from './args.js';
import { INPUT_OPTIONS, loadInput } from './config-input.js';

export const RELOAD_HELP = `Usage: wsgi-host reload (-c FILE | --apache FILE | SCRIPT [serve options])

Ask the running server that serves this configuration to re-read it (as SIGHUP does). Groups
whose settings changed get new processes, which must all load before the old ones drain; the
others are untouched. A configuration that does not validate, or an application that fails to
import, leaves the running configuration serving: the reason is printed and the exit status is 1.

  -h, --help   show this help
`;

export async function reloadCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('reload', argv, { ...INPUT_OPTIONS, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(RELOAD_HELP);
    return 0;
  }
  const loaded = await loadInput('reload', values, positionals);
  const admin = adminAddress(loaded.config.admin.listen, loaded.identity);
  const r = await adminRequest(admin, 'POST', '/reload', loaded.config.admin.token, 600_000);
  let message = r.body;
  try {
    message = (JSON.parse(r.body) as { message: string }).message;
  } catch {
    /* plain text */
  }
  (r.status === 200 ? process.stdout : process.stderr).write(`wsgi-host: ${message.trim()}\n`);
  return r.status === 200 ? 0 : 1;
}
