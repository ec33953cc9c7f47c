import { adminRequest, answerJson, badAnswer } from '../admin/admin-client.js';
import { clientAddress } from '../admin/admin-target.js';
import { ADMIN_FLAGS, adminTarget, takeAdminFlags } from './admin-flags.js';
import { parseCommand } from './args.js';
import { INPUT_OPTIONS, loadInput } from './config-input.js';

export const RELOAD_HELP = `Usage: wsgi-host reload (-c FILE | --apache FILE | SCRIPT [serve options])

Ask the running server that serves this configuration to re-read it (as SIGHUP does). Groups
whose settings changed get new processes, which must all load before the old ones drain; the
others are untouched. A configuration that does not validate, or an application that fails to
import, leaves the running configuration serving: the reason is printed and the exit status is 1.

  --admin WHERE            the admin listener the server was started with (--admin of serve;
                           default: admin.listen of the configuration, else auto)
  --admin-token-file FILE  the admin token, when the server has one
  -h, --help               show this help
`;

export async function reloadCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand('reload', argv, { ...INPUT_OPTIONS, ...ADMIN_FLAGS, help: { type: 'boolean', short: 'h' } }, true);
  if (values.help) {
    process.stdout.write(RELOAD_HELP);
    return 0;
  }
  const flags = takeAdminFlags(values);
  const loaded = await loadInput('reload', values, positionals);
  const target = adminTarget(loaded, values, flags, 'client');
  const r = await adminRequest(await clientAddress(target), 'POST', '/reload', target.token, 600_000);
  let message: string;
  if (r.status === 200 || r.status === 409) {
    // The reload's outcome: { ok, message }.
    const result = answerJson(r, 'the outcome of the reload as JSON') as { message?: unknown } | null;
    if (typeof result?.message !== 'string') throw badAnswer(r, 'the outcome of the reload as JSON');
    message = result.message;
  } else if (/^text\/plain\b/i.test(r.contentType ?? '') && r.body.length < 2000) {
    message = `${r.from} answered ${r.status}: ${r.body.trim()}`;
  } else {
    throw badAnswer(r, 'the outcome of the reload as JSON');
  }
  (r.status === 200 ? process.stdout : process.stderr).write(`wsgi-host: ${message.trim()}\n`);
  return r.status === 200 ? 0 : 1;
}
