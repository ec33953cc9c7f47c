import { parseSubnet, type Subnet } from '../util/ip-address.js';
import { AccessRuleError } from './errors.js';
import { compileMatcher, type Matcher } from './matchers.js';
import type { AccessRule, CompatLine, Requirement } from './policy.js';

export type { Matcher } from './matchers.js';
export { AccessRuleError } from './errors.js';

/**
 * Access rules compiled for the evaluator (evaluate.ts), checked as Apache checks them when it
 * starts: an unknown provider, a bad address, 'Require not' where it can never have an effect, a
 * block of only negative lines. A problem is an AccessRuleError naming the rule's key path.
 */

/** null: every method (Apache's default); else the methods a <Limit>/<LimitExcept> leaves in. */
export type MethodSet = { except: boolean; methods: Set<string> } | null;

export type Leaf =
  | { type: 'all'; granted: boolean }
  | { type: 'ip'; nets: Subnet[] }
  | { type: 'local' }
  | { type: 'method'; methods: Set<string> }
  | { type: 'env'; names: string[] }
  /** A provider wsgi-host cannot decide from the request (host, user, valid-user, expr...). */
  | { type: 'unknown'; text: string };

export type AuthzNode =
  | { kind: 'leaf'; leaf: Leaf; negate: boolean; limit: MethodSet }
  | { kind: 'group'; op: 'and' | 'or'; negate: boolean; children: AuthzNode[] };

export type CompatFrom = { type: 'all' } | { type: 'env'; name: string; negate: boolean } | { type: 'ip'; net: Subnet } | { type: 'host'; name: string };

export interface CompatEntry {
  directive: 'order' | 'allow' | 'deny' | 'satisfy';
  value: string;
  from?: CompatFrom;
  limit: MethodSet;
}

export interface CompiledRule {
  matcher: Matcher;
  /** undefined: the rule has no Require lines (with merge 'off': it removes the earlier ones). */
  require?: AuthzNode;
  merge?: 'off' | 'and' | 'or';
  compat?: CompatEntry[];
}

export interface CompiledPolicy {
  rules: CompiledRule[];
  /** Some requirement cannot be decided from the request: decide it both ways, allow only if both allow. */
  hasUnknown: boolean;
  /** Some rule depends on the file a request maps to (not only on its URL). */
  dependsOnFile: boolean;
}

const DECIDABLE = new Set(['all', 'ip', 'local', 'method', 'env']);

export function compilePolicy(rules: readonly AccessRule[]): CompiledPolicy {
  const out: CompiledPolicy = { rules: [], hasUnknown: false, dependsOnFile: false };
  rules.forEach((rule, i) => {
    const at = (...p: (string | number)[]): (string | number)[] => [i, ...p];
    const matcher = compileMatcher(rule, at);
    if (matcher.type !== 'always' && matcher.type !== 'path' && matcher.type !== 'pathMatch') out.dependsOnFile = true;
    if (rule.require === undefined && rule.merge === undefined && rule.compat === undefined) {
      throw new AccessRuleError('an access rule needs require, merge or compat', at(), 'Add require = "all granted" (or "all denied", "ip 10.0.0.0/8"...)');
    }
    const compiled: CompiledRule = { matcher };
    if (rule.require !== undefined) {
      const ctx = { unknown: false };
      const section = compileList(rule.require, at('require'), ctx, null);
      checkSection(section, at('require'));
      compiled.require = section;
      if (ctx.unknown) out.hasUnknown = true;
    }
    if (rule.merge !== undefined) compiled.merge = rule.merge;
    if (rule.compat !== undefined) {
      compiled.compat = rule.compat.map((line, j) => compileCompat(line, at('compat', j)));
      if (compiled.compat.some((e) => e.from?.type === 'host')) out.hasUnknown = true;
    }
    out.rules.push(compiled);
  });
  return out;
}

// ---- Require lines and blocks ------------------------------------------------------------------------

interface Ctx {
  unknown: boolean;
}

/** A list (or single line, or block) as the implicit <RequireAny> of a section or list. */
function compileList(req: Requirement, path: (string | number)[], ctx: Ctx, limit: MethodSet): AuthzNode {
  const items = Array.isArray(req) ? req : [req];
  const children = items.map((r, j) => compileItem(r, Array.isArray(req) ? [...path, j] : path, ctx, limit, 'or'));
  return group('or', false, children.flat(), path);
}

function compileItem(req: Requirement, path: (string | number)[], ctx: Ctx, limit: MethodSet, parentOp: 'and' | 'or'): AuthzNode[] {
  if (typeof req === 'string') return [compileLine(req, path, ctx, limit, parentOp)];
  if (Array.isArray(req)) return [compileList(req, path, ctx, limit)];
  if (req === null || typeof req !== 'object')
    throw new AccessRuleError('a requirement is a Require line, a list or a block', path, 'Write e.g. "all granted"');
  const keys = Object.keys(req);
  if ('limit' in req || 'limitExcept' in req) {
    const except = 'limitExcept' in req;
    const methods = except ? (req as { limitExcept: string[] }).limitExcept : (req as { limit: string[] }).limit;
    if (!Array.isArray(methods) || methods.length === 0)
      throw new AccessRuleError(`${except ? 'limit-except' : 'limit'} needs methods`, path, 'Write e.g. limit = ["POST", "PUT"]');
    if (limit !== null) throw new AccessRuleError('a limit block inside another one', path, 'Apache does not nest <Limit> sections: write one limit block');
    const inner: MethodSet = { except, methods: new Set(methods.map(methodName)) };
    const body = (req as { require: Requirement }).require;
    if (body === undefined) throw new AccessRuleError('a limit block needs require', path, 'Add require = [...] inside it');
    // <Limit> is not a block of its own in Apache: its lines join the enclosing block.
    const items = Array.isArray(body) ? body : [body];
    return items.flatMap((r, j) => compileItem(r, Array.isArray(body) ? [...path, 'require', j] : [...path, 'require'], ctx, inner, parentOp));
  }
  const op = keys[0];
  if (keys.length !== 1 || (op !== 'all' && op !== 'any' && op !== 'none')) {
    throw new AccessRuleError(`unknown requirement block '${keys.join(', ')}'`, path, 'Use all, any, none, limit or limit-except');
  }
  const list = (req as Record<string, Requirement[]>)[op] as Requirement[];
  if (!Array.isArray(list)) throw new AccessRuleError(`${op} takes a list of requirements`, [...path, op], `Write ${op} = ["...", "..."]`);
  const groupOp = op === 'all' ? 'and' : 'or';
  const negate = op === 'none';
  if (negate && parentOp === 'or') {
    throw new AccessRuleError(
      'a none block has no effect among alternatives (Apache: "<RequireNone> directive has no effect in <RequireAny> directive")',
      path,
      'Put it inside an all block: { all = ["all granted", { none = [...] }] }',
    );
  }
  const children = list.flatMap((r, j) => compileItem(r, [...path, op, j], ctx, limit, groupOp));
  const g = group(groupOp, negate, children, [...path, op]);
  // As Apache: a nested block of the same kind is the same as its lines written in the parent.
  return [g];
}

function group(op: 'and' | 'or', negate: boolean, children: AuthzNode[], path: (string | number)[]): AuthzNode {
  if (children.length === 0) throw new AccessRuleError('a requirement block contains no requirements', path, 'Add at least one Require line');
  return { kind: 'group', op, negate, children };
}

function compileLine(text: string, path: (string | number)[], ctx: Ctx, limit: MethodSet, parentOp: 'and' | 'or'): AuthzNode {
  let words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  let negate = false;
  if (words[0]?.toLowerCase() === 'not') {
    negate = true;
    words = words.slice(1);
  }
  const provider = words[0]?.toLowerCase();
  const args = words.slice(1);
  if (provider === undefined) throw new AccessRuleError('an empty Require line', path, 'Write e.g. "all granted"');
  if (negate && parentOp === 'or') {
    throw new AccessRuleError(
      `'${text}': a negative requirement has no effect among alternatives (Apache refuses it too)`,
      path,
      'Put it inside an all block: { all = ["all granted", "not ip 192.0.2.1"] }',
    );
  }
  const leafNode = (leaf: Leaf): AuthzNode => ({ kind: 'leaf', leaf, negate, limit });
  if (!DECIDABLE.has(provider)) {
    ctx.unknown = true;
    return leafNode({ type: 'unknown', text: words.join(' ') });
  }
  switch (provider) {
    case 'all': {
      const v = args.join(' ').toLowerCase();
      if (v !== 'granted' && v !== 'denied')
        throw new AccessRuleError(`'${text}': Require all takes granted or denied`, path, 'Write "all granted" or "all denied"');
      return leafNode({ type: 'all', granted: v === 'granted' });
    }
    case 'ip': {
      if (args.length === 0) throw new AccessRuleError(`'${text}': Require ip needs addresses`, path, 'Write e.g. "ip 10.0.0.0/8 192.168.1.5"');
      const nets = args.map((a) => {
        const s = parseSubnet(a);
        if (typeof s === 'string')
          throw new AccessRuleError(`'${text}': ${s}`, path, 'Write addresses such as 10.1.2.3, 10.1, 10.0.0.0/8, 10.0.0.0/255.0.0.0 or 2001:db8::/32');
        return s;
      });
      return leafNode({ type: 'ip', nets });
    }
    case 'local':
      return leafNode({ type: 'local' });
    case 'method': {
      if (args.length === 0) throw new AccessRuleError(`'${text}': Require method needs methods`, path, 'Write e.g. "method GET POST"');
      return leafNode({ type: 'method', methods: new Set(args.map(methodName)) });
    }
    default:
      if (args.length === 0) throw new AccessRuleError(`'${text}': Require env needs variable names`, path, 'Write e.g. "env LOCAL_NETWORK"');
      return leafNode({ type: 'env', names: args });
  }
}

/** Apache counts HEAD as GET for access control. */
export const methodName = (m: string): string => {
  const u = m.toUpperCase();
  return u === 'HEAD' ? 'GET' : u;
};

/**
 * Apache refuses a block whose requirements are all negative (they could never grant), including
 * the section itself (authz_core_check_section).
 */
function checkSection(node: AuthzNode, path: (string | number)[]): void {
  if (node.kind !== 'group') return;
  for (const c of node.children) checkSection(c, path);
  if (node.children.every((c) => c.negate)) {
    throw new AccessRuleError(
      'the requirements here are all negative, so they can never grant access (Apache refuses this too)',
      path,
      'Add what is granted, e.g. { all = ["all granted", "not ip 192.0.2.1"] }',
    );
  }
}

// ---- mod_access_compat lines ---------------------------------------------------------------------

function compileCompat(line: CompatLine, path: (string | number)[]): CompatEntry {
  const text = typeof line === 'string' ? line : line.line;
  let limit: MethodSet = null;
  if (typeof line !== 'string' && (line.limit !== undefined || line.limitExcept !== undefined)) {
    const except = line.limitExcept !== undefined;
    limit = { except, methods: new Set((except ? line.limitExcept : line.limit)?.map(methodName)) };
  }
  const words = (text ?? '').trim().split(/\s+/);
  const directive = (words[0] ?? '').toLowerCase();
  const rest = words.slice(1);
  const bad = (why: string, hint: string): never => {
    throw new AccessRuleError(`'${text}': ${why}`, path, hint);
  };
  if (directive === 'order') {
    const v = rest.join('').toLowerCase();
    if (v !== 'deny,allow' && v !== 'allow,deny' && v !== 'mutual-failure')
      bad('Order takes deny,allow, allow,deny or mutual-failure', 'Write "Order deny,allow"');
    return { directive: 'order', value: v, limit };
  }
  if (directive === 'satisfy') {
    const v = (rest[0] ?? '').toLowerCase();
    if (rest.length !== 1 || (v !== 'all' && v !== 'any')) bad('Satisfy takes all or any', 'Write "Satisfy all"');
    return { directive: 'satisfy', value: v, limit };
  }
  if (directive === 'allow' || directive === 'deny') {
    if ((rest[0] ?? '').toLowerCase() !== 'from' || rest.length < 2)
      bad(`${directive === 'allow' ? 'Allow' : 'Deny'} takes 'from' and addresses`, `Write "${directive === 'allow' ? 'Allow' : 'Deny'} from 10.0.0.0/8"`);
    if (rest.length > 2) bad('one address per line here', 'Write one line per address');
    return { directive, value: rest[1] as string, from: compatFrom(rest[1] as string), limit };
  }
  return bad('not an Order, Allow, Deny or Satisfy line', 'Write e.g. "Deny from all"');
}

/** As mod_access_compat reads it: all, env=[!]VAR, an address or network, else a host name. */
function compatFrom(where: string): CompatFrom {
  if (where.toLowerCase() === 'all') return { type: 'all' };
  if (where.toLowerCase().startsWith('env=')) {
    const name = where.slice(4);
    return name.startsWith('!') ? { type: 'env', name: name.slice(1), negate: true } : { type: 'env', name, negate: false };
  }
  const net = parseSubnet(where);
  if (typeof net !== 'string') return { type: 'ip', net };
  if (where.includes('/')) throw new AccessRuleError(`'${where}': ${net}`, [], 'Write a network such as 10.0.0.0/8');
  return { type: 'host', name: where.toLowerCase() };
}
