import { ApacheErrorCode as E, apacheError } from '../errors.js';
import { urlPrefix } from '../paths.js';
import type { ConfigNode, SectionNode } from '../read/nodes.js';
import { addressPort } from './addresses.js';
import { directoryTester, filesTester, locationTester, newScope, type ScopeKind, within } from './scopes.js';
import type { Ctx, HostDecl, SectionHandler, Site, Walk } from './site.js';

/**
 * The handlers of the sections table.ts lists: <VirtualHost> (a host), <Directory>, <Location>,
 * <Files> and their Match forms (a Scope whose settings merge into what it covers, see scopes.ts),
 * the access-control blocks, and every other section (skipped, and said so).
 */

export function virtualHost(s: SectionNode, ctx: Ctx, site: Site, walk: Walk): void {
  if (ctx.level !== 'server') {
    throw apacheError(
      E.SYNTAX,
      `<VirtualHost> is not allowed in ${ctx.label}`,
      s,
      '<VirtualHost>',
      'Close the enclosing section first: virtual hosts are declared at the server level',
    );
  }
  if (s.args.length === 0) {
    throw apacheError(E.SYNTAX, '<VirtualHost> needs an address', s, '<VirtualHost>', 'Write e.g. <VirtualHost *:80>');
  }
  const address = s.args.join(' ');
  const index = site.hosts.length;
  const label = `<VirtualHost ${address}>`;
  const host: HostDecl = {
    index,
    at: { file: s.file, line: s.line },
    address,
    addressPort: addressPort(s.args[0] as string),
    aliases: [],
    scope: newScope('vhost', index, label, s, site.counter++),
    ssl: { requireSsl: [] },
  };
  host.scope.section = s;
  site.hosts.push(host);
  site.scopes.push(host.scope);
  walk(s.children, { ...ctx, level: 'vhost', host, scope: host.scope, label }, site);
}

/** <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>, <Location>, <LocationMatch>. */
export function contextSection(kind: ScopeKind, regexSection: boolean): SectionHandler {
  return (s, ctx, site, walk) => scopeSection(s, kind, regexSection, ctx, site, walk);
}

function scopeSection(s: SectionNode, kind: ScopeKind, regexSection: boolean, ctx: Ctx, site: Site, walk: Walk): void {
  const label = `<${s.name} ${s.args.join(' ')}>`;
  const nestedFiles = kind === 'files' && ctx.directory !== undefined;
  if (ctx.level === 'section' && !nestedFiles) {
    throw apacheError(
      E.SYNTAX,
      `${label} is not allowed in ${ctx.label}`,
      s,
      `<${s.name}>`,
      `Move it out of ${ctx.label}, to the server level or a <VirtualHost>`,
    );
  }
  const tilde = s.args[0] === '~';
  const pattern = tilde ? s.args[1] : s.args[0];
  if (pattern === undefined || s.args.length > (tilde ? 2 : 1)) {
    throw apacheError(
      E.SYNTAX,
      `${label} takes one path or pattern`,
      s,
      `<${s.name}>`,
      `Write e.g. <${s.name} ${kind === 'location' ? '/app' : kind === 'files' ? 'app.wsgi' : '/srv/app'}> (quote a path with spaces)`,
    );
  }
  const regex = regexSection || tilde;
  const tester =
    kind === 'directory' ? directoryTester(pattern, regex, site.paths) : kind === 'files' ? filesTester(pattern, regex) : locationTester(pattern, regex);
  const test = nestedFiles ? within(ctx.directory as NonNullable<Ctx['directory']>, tester.test) : tester.test;
  const rank = nestedFiles ? ctx.scope.rank : tester.rank;
  const scope = newScope(kind, ctx.host?.index, label, s, site.counter++, test, rank);
  scope.section = s;
  scope.pattern = { text: pattern, regex };
  if (nestedFiles) scope.parent = ctx.scope;
  if (kind === 'location' && !regex) scope.prefix = urlPrefix(pattern);
  site.scopes.push(scope);
  const directory = kind === 'directory' ? test : ctx.directory;
  walk(s.children, { ...ctx, level: 'section', scope, label, directory, accessBlock: true }, site);
}

/**
 * <Limit>, <LimitExcept>, <RequireAll>, <RequireAny>, <RequireNone>: blocks of the access lines of
 * the enclosing section (kept in its tree for translate/access.ts). Apache allows them in
 * <Directory>, <Files>, <Location> and their Match forms only.
 */
export function accessSection(s: SectionNode, ctx: Ctx, site: Site, walk: Walk): void {
  if (ctx.level !== 'section') {
    throw apacheError(
      E.SYNTAX,
      `<${s.name}> is not allowed in ${ctx.label} (Apache refuses it there too)`,
      s,
      `<${s.name}>`,
      'Put it in a <Directory>, <Files> or <Location>',
    );
  }
  walk(s.children, { ...ctx, accessBlock: true }, site);
}

/** What Apache applies only to the requests a conditional section selects: refused inside one. */
const SELECTIVE =
  /^(wsgi|require|order$|allow$|deny$|satisfy$|auth|alias|scriptalias|redirect|rewriterule$|header$|requestheader$|sethandler$|addhandler$|setenv$|proxypass)/;
const CONDITIONAL = new Set(['if', 'elseif', 'else', 'iffile', 'ifdirective', 'ifsection']);

/**
 * <If>, <Proxy>, <Macro>...: skipped. What restricts access or routes requests inside a conditional
 * section (<If>, <ElseIf>, <Else>...), and a mod_wsgi directive inside any of them, is refused:
 * wsgi-host cannot tell which requests the section selects.
 */
export function unknownSection(s: SectionNode, ctx: Ctx, site: Site): void {
  site.notes.ignore(`<${s.name}>`, `wsgi-host does not evaluate <${s.name}> sections, so what is inside them is left out.`, s);
  const conditional = CONDITIONAL.has(s.key);
  const report = (nodes: ConfigNode[]): void => {
    for (const n of nodes) {
      if (n.type === 'section') {
        if (conditional && /^(require|limit)/.test(n.key)) site.notes.refuse(refusedInside(`<${n.name}>`, s, ctx), n);
        report(n.children);
      } else if (n.key.startsWith('wsgi') || (conditional && SELECTIVE.test(n.key))) {
        site.notes.refuse(refusedInside(n.name, s, ctx), n);
      }
    }
  };
  report(s.children);
}

const refusedInside = (name: string, s: SectionNode, ctx: Ctx): string =>
  `${name} inside <${s.name}> (in ${ctx.label}) is not honoured: wsgi-host cannot tell which requests <${s.name} ${s.args.join(' ')}> selects; move it out of the section, into a <Location> or <Directory>.`;
