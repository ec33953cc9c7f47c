import { inSubnet, isLocalClient } from '../util/ip-address.js';
import type { AuthzNode, CompatEntry, CompiledPolicy, CompiledRule, Leaf, Matcher, MethodSet } from './compile.js';
import { methodName } from './compile.js';

/**
 * The access decision for one request, as Apache 2.4 makes it (pure: no I/O). The rules that
 * match the request are merged in order: a rule's Require lines replace the earlier ones (AuthMerging
 * Off) or join them (And, Or); the last rule with Order/Allow/Deny/Satisfy lines replaces the earlier
 * ones (mod_access_compat). Then, with Satisfy All (the default), both the Allow/Deny lines and the
 * Require lines must let the request in; with Satisfy Any, either. Denied is 403, as in Apache.
 *
 * A requirement wsgi-host cannot decide from the request (Require host, user, expr...) is decided
 * both ways, and the request is let in only if it would be either way: never more open than Apache.
 */

export interface AccessFacts {
  method: string;
  /** The decoded, normalized URL path (what <Location> matches). */
  path: string;
  /** The client's address (REMOTE_ADDR). */
  client: string;
  /** The address the connection arrived on (Require local). */
  server: string;
  /** The file the request maps to: the script of a mount, or the static folder plus the path below it. */
  file?: string | undefined;
  /** That file is a folder (a request for a static folder). */
  fileIsDirectory?: boolean;
  /** PATH_INFO of a mount ('' when the URL is the mount's own). */
  pathInfo?: string;
}

export type Decision = { allowed: true } | { allowed: false; status: 403 };

const ALLOW: Decision = { allowed: true };
const DENY: Decision = { allowed: false, status: 403 };

type Status = 'granted' | 'denied' | 'neutral';

export function decide(policy: CompiledPolicy, facts: AccessFacts): Decision {
  const method = methodName(facts.method);
  const rules = policy.rules.filter((r) => matches(r.matcher, facts));
  if (rules.length === 0) return ALLOW;
  const section = mergeRequire(rules);
  const compat = lastCompat(rules);
  if (!policy.hasUnknown) return decideWith(section, compat, method, facts, false) ? ALLOW : DENY;
  return decideWith(section, compat, method, facts, true) && decideWith(section, compat, method, facts, false) ? ALLOW : DENY;
}

function decideWith(section: AuthzNode | undefined, compat: CompatEntry[] | undefined, method: string, facts: AccessFacts, unknownGrants: boolean): boolean {
  const c = compat === undefined ? { ok: true, any: false } : checkCompat(compat, method, facts, unknownGrants);
  const authz = section === undefined || evaluate(section, 'and', method, facts, unknownGrants) === 'granted';
  return c.any ? c.ok || authz : c.ok && authz;
}

// ---- which rules apply ----------------------------------------------------------------------------

export function matches(m: Matcher, f: AccessFacts): boolean {
  switch (m.type) {
    case 'always':
      return true;
    case 'path':
      if (m.glob !== undefined) return m.glob.test(f.path);
      if (!f.path.startsWith(m.prefix)) return false;
      return m.prefix.endsWith('/') || f.path.length === m.prefix.length || f.path.charCodeAt(m.prefix.length) === 47;
    case 'pathMatch':
      return m.re.test(f.path);
    case 'directory': {
      if (f.file === undefined) return false;
      const dir = folderOf(f);
      if (m.glob !== undefined) return m.glob.test(dir);
      if (m.dir === '/' || dir === m.dir || dir.startsWith(`${m.dir}/`)) return true;
      // Apache's directory walk also takes the last part of the path as a folder when nothing follows it.
      return f.file === m.dir && (f.pathInfo === undefined || f.pathInfo === '');
    }
    case 'directoryMatch':
      return f.file !== undefined && m.re.test(f.file);
    case 'files':
      return f.file !== undefined && m.glob.test(baseName(f.file));
    case 'filesMatch':
      return f.file !== undefined && m.re.test(baseName(f.file));
    case 'both':
      return matches(m.outer, f) && matches(m.inner, f);
  }
}

function folderOf(f: AccessFacts): string {
  const file = f.file as string;
  if (f.fileIsDirectory === true || file.endsWith('/')) return file.length > 1 ? file.replace(/\/+$/, '') : file;
  const slash = file.lastIndexOf('/');
  return slash <= 0 ? '/' : file.slice(0, slash);
}

const baseName = (file: string): string => file.slice(file.lastIndexOf('/') + 1);

// ---- Require: merging and evaluating ---------------------------------------------------------------

/** authz_core's merge of the sections that apply, in order. */
function mergeRequire(rules: CompiledRule[]): AuthzNode | undefined {
  let section: AuthzNode | undefined;
  for (const r of rules) {
    if (r.require === undefined && r.merge === undefined) continue;
    if (r.merge === undefined || r.merge === 'off' || (section === undefined && r.require === undefined)) {
      section = r.require;
    } else if (section !== undefined && r.require !== undefined) {
      section = { kind: 'group', op: r.merge, negate: false, children: [section, r.require] };
    } else if (section === undefined) {
      section = r.require;
    }
  }
  return section;
}

function applies(node: AuthzNode, method: string): boolean {
  if (node.kind === 'group') return node.children.some((c) => applies(c, method));
  return inLimit(node.limit, method);
}

const inLimit = (limit: MethodSet, method: string): boolean => limit === null || limit.methods.has(method) !== limit.except;

/** apply_authz_sections: granted, denied or neutral; lines limited to other methods do not count. */
function evaluate(node: AuthzNode, parentOp: 'and' | 'or', method: string, f: AccessFacts, unknownGrants: boolean): Status {
  if (!applies(node, method)) return parentOp === 'and' ? 'granted' : 'neutral';
  let result: Status;
  if (node.kind === 'leaf') {
    result = leafGrants(node.leaf, method, f, unknownGrants) ? 'granted' : 'denied';
  } else {
    result = 'neutral';
    for (const child of node.children) {
      const r = evaluate(child, node.op, method, f, unknownGrants);
      if (r === 'neutral') continue;
      if (node.op === 'and') {
        if (r === 'denied') {
          result = r;
          break;
        }
        if (result === 'neutral') result = r;
      } else {
        if (r === 'granted') {
          result = r;
          break;
        }
        if (result === 'neutral') result = r;
      }
    }
  }
  if (node.negate) {
    if (result === 'granted') return 'denied';
    if (result === 'denied') return 'neutral';
  }
  return result;
}

function leafGrants(leaf: Leaf, method: string, f: AccessFacts, unknownGrants: boolean): boolean {
  switch (leaf.type) {
    case 'all':
      return leaf.granted;
    case 'ip':
      return leaf.nets.some((n) => inSubnet(f.client, n));
    case 'local':
      return isLocalClient(f.client, f.server);
    case 'method':
      return leaf.methods.has(method);
    case 'env':
      // Variables set before access control (SetEnvIf, BrowserMatch...): wsgi-host sets none.
      return false;
    case 'unknown':
      return unknownGrants;
  }
}

// ---- Order/Allow/Deny/Satisfy --------------------------------------------------------------------

/** The Order/Allow/Deny/Satisfy lines of the last rule that has any: they replace earlier ones whole. */
function lastCompat(rules: CompiledRule[]): CompatEntry[] | undefined {
  for (let i = rules.length - 1; i >= 0; i--) if ((rules[i] as CompiledRule).compat !== undefined) return (rules[i] as CompiledRule).compat;
  return undefined;
}

/** mod_access_compat's check_dir_access for the request's method, and its Satisfy. */
function checkCompat(entries: CompatEntry[], method: string, f: AccessFacts, unknownGrants: boolean): { ok: boolean; any: boolean } {
  let order = 'deny,allow';
  let satisfy = 'all';
  let allowed = false;
  let denied = false;
  for (const e of entries) {
    if (!inLimit(e.limit, method)) continue;
    if (e.directive === 'order') order = e.value;
    else if (e.directive === 'satisfy') satisfy = e.value;
    else if (fromMatches(e, f, unknownGrants === (e.directive === 'allow'))) {
      if (e.directive === 'allow') allowed = true;
      else denied = true;
    }
  }
  let ok: boolean;
  if (order === 'allow,deny') ok = allowed && !denied;
  else if (order === 'deny,allow') ok = !denied || allowed;
  else ok = allowed && !denied;
  return { ok, any: satisfy === 'any' };
}

/** Whether an Allow/Deny line matches; a host name (needs DNS) counts as `unknownMatches`. */
function fromMatches(e: CompatEntry, f: AccessFacts, unknownMatches: boolean): boolean {
  const from = e.from;
  if (from === undefined) return false;
  switch (from.type) {
    case 'all':
      return true;
    case 'env':
      return from.negate; // no variable is set before access control in wsgi-host
    case 'ip':
      return inSubnet(f.client, from.net);
    case 'host':
      return unknownMatches;
  }
}
