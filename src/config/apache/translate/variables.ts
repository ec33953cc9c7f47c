import type { Where } from '../errors.js';
import type { Sourced } from '../read/nodes.js';

/**
 * mod_wsgi's expanding values of WSGIProcessGroup and WSGIApplicationGroup: %{GLOBAL},
 * %{SERVER} (host name, and the port unless 80 or 443), %{RESOURCE} (SERVER|SCRIPT_NAME) and
 * %{ENV:NAME} (SetEnv, else the environment).
 */
export interface ExpandContext {
  server: string;
  scriptName: string;
  env: (name: string) => string | undefined;
  missing: (what: string, name: string, where: Where) => void;
}

export const GLOBAL = '%{GLOBAL}';

/** The process group a mount runs in; undefined is the default group (mod_wsgi's embedded mode). */
export function expandProcessGroup(raw: Sourced<string>, ctx: ExpandContext): Sourced<string> | undefined {
  const value = envValue('WSGIProcessGroup', raw, ctx) ?? raw.value;
  return value === GLOBAL || value === '' ? undefined : { value, at: raw.at };
}

export function expandApplicationGroup(raw: Sourced<string>, ctx: ExpandContext): Sourced<string> {
  const value = envValue('WSGIApplicationGroup', raw, ctx) ?? raw.value;
  const expanded =
    value === '%{SERVER}' ? ctx.server
      : value === '%{RESOURCE}' ? `${ctx.server}|${ctx.scriptName}`
        : value === '' ? GLOBAL
          : value;
  return { value: expanded, at: raw.at };
}

/** The value of %{ENV:NAME}; '' when unset (as mod_wsgi has it), undefined when not an ENV reference. */
function envValue(what: string, raw: Sourced<string>, ctx: ExpandContext): string | undefined {
  const m = /^%\{ENV:([^}]+)\}$/.exec(raw.value);
  if (m === null) return undefined;
  const name = m[1] as string;
  const value = ctx.env(name);
  if (value === undefined) ctx.missing(what, name, raw.at);
  return value ?? '';
}
