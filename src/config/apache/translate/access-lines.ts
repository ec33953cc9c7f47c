import { AccessRuleError, compilePolicy } from '../../../access/compile.js';
import type { AccessRule, CompatLine, Requirement } from '../../../access/policy.js';
import type { Scope } from '../directives/scopes.js';
import type { Site } from '../directives/site.js';
import { ApacheErrorCode as E, apacheError } from '../errors.js';
import type { ConfigNode, DirectiveNode } from '../read/nodes.js';

/**
 * What one <Directory>, <Files>, <Location> (or Match form) says about access, read from the
 * section as written: its Require lines and blocks (<RequireAll>, <RequireAny>, <RequireNone>,
 * <Limit>, <LimitExcept>) as the model's `require`, AuthMerging as `merge`, Order/Allow/Deny/Satisfy
 * as `compat`, and AuthType. The lines are checked as Apache checks them when it starts; what
 * wsgi-host cannot decide is refused (and kept, to be decided both ways when that is accepted).
 */

/** What one section says about access, once read. */
export interface ScopeAccess {
  require?: Requirement;
  merge?: 'off' | 'and' | 'or';
  compat?: CompatLine[];
  /** AuthType other than None, in this section. */
  authType?: DirectiveNode | undefined;
  /** What wsgi-host cannot decide here: refused when the section covers a route. */
  refusals: { message: string; at: DirectiveNode }[];
}

const NESTED_SCOPES = new Set(['directory', 'directorymatch', 'files', 'filesmatch', 'location', 'locationmatch']);

export class SectionReader {
  private readonly byScope = new Map<Scope, ScopeAccess | undefined>();
  private readonly envSet: Set<string>;

  constructor(site: Site) {
    this.envSet = envVariablesSet(site);
  }

  /** What a section says about access; undefined when nothing. */
  read(scope: Scope): ScopeAccess | undefined {
    if (this.byScope.has(scope)) return this.byScope.get(scope);
    const section = scope.section;
    const out: ScopeAccess = { refusals: [] };
    const compat: CompatLine[] = [];
    const items = section === undefined ? [] : this.items(section.children, undefined, compat, out);
    if (items.length > 0) out.require = items.length === 1 && typeof items[0] === 'string' ? items[0] : items;
    if (compat.length > 0) out.compat = compat;
    const any = out.require !== undefined || out.merge !== undefined || out.compat !== undefined || out.authType !== undefined;
    const result = any ? out : undefined;
    if (result !== undefined) this.validate(scope, result);
    this.byScope.set(scope, result);
    return result;
  }

  /** The Require items of a block (and its Order/Allow/Deny/Satisfy lines into `compat`). */
  private items(nodes: ConfigNode[], limit: { except: boolean; methods: string[] } | undefined, compat: CompatLine[], out: ScopeAccess): Requirement[] {
    const items: Requirement[] = [];
    for (const n of nodes) {
      if (n.type === 'section') {
        if (NESTED_SCOPES.has(n.key)) continue; // a section of its own (a <Files> in a <Directory>)
        if (n.key === 'limit' || n.key === 'limitexcept') {
          const inner = { except: n.key === 'limitexcept', methods: n.args };
          const body = this.items(n.children, inner, compat, out);
          if (body.length > 0) items.push(inner.except ? { limitExcept: n.args, require: body } : { limit: n.args, require: body });
        } else if (n.key === 'requireall' || n.key === 'requireany' || n.key === 'requirenone') {
          const body = this.items(n.children, undefined, compat, out);
          const op = n.key === 'requireall' ? 'all' : n.key === 'requireany' ? 'any' : 'none';
          items.push({ [op]: body } as Requirement);
        }
        continue;
      }
      switch (n.key) {
        case 'require':
          items.push(this.requireLine(n, out));
          break;
        case 'order':
        case 'satisfy':
          compat.push(withLimit(`${n.name} ${n.args.join(' ')}`, limit));
          break;
        case 'allow':
        case 'deny':
          for (const from of n.args.slice(1)) compat.push(withLimit(`${n.name} from ${this.compatFrom(n, from, out)}`, limit));
          break;
        case 'authmerging': {
          const v = (n.args[0] ?? '').toLowerCase();
          if (v !== 'off' && v !== 'and' && v !== 'or')
            throw apacheError(E.BAD_VALUE, `AuthMerging takes Off, And or Or, not '${n.args[0]}'`, n, n.name, 'Write AuthMerging And');
          out.merge = v;
          break;
        }
        case 'authtype':
          out.authType = (n.args[0] ?? '').toLowerCase() === 'none' ? undefined : n;
          break;
      }
    }
    return items;
  }

  /** A Require line as the model writes it; what cannot be decided is refused (and kept, decided both ways). */
  private requireLine(d: DirectiveNode, out: ScopeAccess): string {
    const words = [...d.args];
    const negated = words[0]?.toLowerCase() === 'not';
    const provider = (negated ? words[1] : words[0])?.toLowerCase() ?? '';
    const args = words.slice(negated ? 2 : 1);
    const text = words.join(' ');
    const refuse = (why: string): void => {
      out.refusals.push({ message: `Require ${text} in ${d.file}:${d.line} is not honoured: ${why}`, at: d });
    };
    if (provider === 'env') {
      const set = args.filter((a) => this.envSet.has(a));
      if (set.length > 0) {
        refuse(
          `${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set by SetEnvIf, BrowserMatch or RewriteRule, which wsgi-host does not evaluate; decide it in the application or a front proxy.`,
        );
        return `${negated ? 'not ' : ''}setenvif ${args.join(' ')}`;
      }
    } else if (provider === 'host' || provider === 'forward-dns') {
      refuse('it needs DNS lookups of the client, which wsgi-host does not make; use Require ip with the addresses.');
    } else if (provider === 'expr') {
      refuse(
        "wsgi-host does not evaluate Apache's expressions; write it with Require ip, method, local and <RequireAll>/<RequireAny>, or decide it in the application.",
      );
    } else if (!['all', 'ip', 'local', 'method', 'env'].includes(provider)) {
      refuse(
        'it needs an authenticated user, and wsgi-host does no authentication; authenticate in the application (with WSGIPassAuthorization On it gets the Authorization header) or in a front proxy.',
      );
    }
    return text;
  }

  /** An Allow/Deny address; a host name, or a variable set by SetEnvIf, cannot be decided: refused. */
  private compatFrom(d: DirectiveNode, from: string, out: ScopeAccess): string {
    if (from.toLowerCase().startsWith('env=')) {
      const name = from.slice(4).replace(/^!/, '');
      if (!this.envSet.has(name)) return from;
      out.refusals.push({
        message: `${d.name} from ${from} in ${d.file}:${d.line} is not honoured: ${name} is set by SetEnvIf, BrowserMatch or RewriteRule, which wsgi-host does not evaluate; decide it in the application or a front proxy.`,
        at: d,
      });
      return `setenvif=${from.slice(4)}`;
    }
    if (from.toLowerCase() === 'all' || /^[\d.]+(\/[\d.]+)?$/.test(from) || from.includes(':')) return from;
    out.refusals.push({
      message: `${d.name} from ${from} in ${d.file}:${d.line} is not honoured: a host name needs DNS lookups of the client, which wsgi-host does not make; write the addresses.`,
      at: d,
    });
    return from;
  }

  /** The lines as Apache checks them at start: a bad address, an impossible 'not'... is an error here too. */
  private validate(scope: Scope, access: ScopeAccess): void {
    const rule: AccessRule = {};
    if (access.require !== undefined) rule.require = access.require;
    if (access.merge !== undefined) rule.merge = access.merge;
    if (access.compat !== undefined) rule.compat = access.compat;
    if (rule.require === undefined && rule.merge === undefined && rule.compat === undefined) return;
    try {
      compilePolicy([rule]);
    } catch (err) {
      if (!(err instanceof AccessRuleError)) throw err;
      const line = scope.directives.find((d) => /^(require|allow|deny|order|satisfy)$/.test(d.key) && err.message.includes(d.args.join(' '))) ?? scope.at;
      throw apacheError(
        E.BAD_VALUE,
        `${err.message} (in ${scope.label})`,
        line,
        'key' in line ? (line as DirectiveNode).name : scope.label,
        err.hint ?? 'Fix the line as Apache would require',
      );
    }
  }
}

function withLimit(line: string, limit: { except: boolean; methods: string[] } | undefined): CompatLine {
  if (limit === undefined) return line;
  return limit.except ? { line, limitExcept: limit.methods } : { line, limit: limit.methods };
}

/** Variables SetEnvIf, SetEnvIfNoCase, SetEnvIfExpr, BrowserMatch(NoCase) and RewriteRule [E=] set. */
function envVariablesSet(site: Site): Set<string> {
  const names = new Set<string>();
  const assign = (w: string): void => {
    const name = w.replace(/^!/, '').split('=')[0];
    if (name) names.add(name);
  };
  for (const scope of site.scopes) {
    for (const d of scope.directives) {
      if (d.key === 'setenvif' || d.key === 'setenvifnocase') d.args.slice(2).forEach(assign);
      else if (d.key === 'setenvifexpr' || d.key === 'browsermatch' || d.key === 'browsermatchnocase') d.args.slice(1).forEach(assign);
      else if (d.key === 'rewriterule') {
        const flags = /^\[(.*)\]$/.exec(d.args[2] ?? '')?.[1] ?? '';
        for (const f of flags.split(',')) {
          const m = /^(?:E|env)=(!?[^:]+)/i.exec(f.trim());
          if (m !== null) assign(m[1] as string);
        }
      }
    }
  }
  return names;
}
