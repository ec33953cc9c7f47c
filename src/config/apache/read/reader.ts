import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, ConfigErrorCode } from '../../errors.js';
import { ApacheErrorCode as E, apacheError, at, type Where } from '../errors.js';
import { evaluateIfVersion, evaluateNamed, isModuleLoaded, moduleId } from './conditions.js';
import { includeFiles } from './files.js';
import { type LogicalLine, logicalLines, parseLine, splitWords } from './lexer.js';
import type { ConfigNode, DirectiveNode, SectionNode } from './nodes.js';

/**
 * Reads an Apache configuration into a tree of directives and sections, as Apache's own reader
 * does: Include/IncludeOptional are read in place, <IfModule>, <IfDefine> and <IfVersion> are
 * decided (a false one is skipped whole), Define and ${NAME} work, and ServerRoot is followed.
 */
export interface ReadOptions {
  defines?: string[];
  serverRoot?: string;
}

export interface ReadResult {
  nodes: ConfigNode[];
  /** ServerRoot at the end of reading: relative paths are taken from it. */
  serverRoot: string;
  /** Whether the serverRoot option overrode a ServerRoot directive. */
  serverRootFromOption: boolean;
}

interface ReadState {
  serverRoot: string;
  serverRootFromOption: boolean;
  defines: Map<string, string>;
  modules: Set<string>;
  reading: string[];
}

/** A section being read: where its children go, or null while skipping a false conditional. */
interface Frame {
  key: string;
  name: string;
  where: Where;
  children: ConfigNode[] | null;
}

const CONDITIONALS = new Set(['ifmodule', 'ifdefine', 'ifversion']);

export function readApacheConfig(file: string, options: ReadOptions = {}): ReadResult {
  const main = resolve(file);
  const state: ReadState = {
    serverRoot: options.serverRoot !== undefined ? resolve(options.serverRoot) : dirname(main),
    serverRootFromOption: options.serverRoot !== undefined,
    defines: new Map((options.defines ?? []).map((d) => [d, ''])),
    modules: new Set(),
    reading: [],
  };
  const nodes: ConfigNode[] = [];
  readFile(main, state, nodes, undefined);
  return { nodes, serverRoot: state.serverRoot, serverRootFromOption: state.serverRootFromOption };
}

function readFile(file: string, state: ReadState, into: ConfigNode[], from: Where | undefined): void {
  if (state.reading.includes(file)) {
    throw apacheError(
      E.INCLUDE,
      `${file} includes itself (through ${state.reading.join(' -> ')})`,
      from as Where,
      'Include',
      'Remove the Include that reads this file again',
    );
  }
  state.reading.push(file);
  const stack: Frame[] = [{ key: '', name: '', where: { file, line: 0 }, children: into }];
  for (const line of logicalLines(loadText(file, from))) handleLine(line, file, state, stack);
  if (stack.length > 1) {
    const open = stack[stack.length - 1] as Frame;
    throw apacheError(
      E.SYNTAX,
      `<${open.name}> opened at ${at(open.where)} is never closed in that file`,
      open.where,
      `<${open.name}>`,
      `Add </${open.name}> before the end of ${file} (Apache requires a section to end in the file it starts in)`,
    );
  }
  state.reading.pop();
}

function loadText(file: string, from: Where | undefined): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (from !== undefined) {
      throw apacheError(
        E.INCLUDE,
        `cannot read the included file ${file}: ${(err as Error).message}`,
        from,
        'Include',
        'Check that the file exists and can be read',
      );
    }
    throw new ConfigError(ConfigErrorCode.FILE_NOT_FOUND, `cannot read the Apache configuration ${file}: ${(err as Error).message}`, {
      source: { file },
      hint: 'Give the path of an Apache configuration file (httpd.conf, apache2.conf or a site file)',
      cause: err,
    });
  }
}

function handleLine(line: LogicalLine, file: string, state: ReadState, stack: Frame[]): void {
  const where = { file, line: line.line };
  const top = stack[stack.length - 1] as Frame;
  const skipping = top.children === null;
  const text = skipping ? line.text : expandVariables(line.text, state);
  const parsed = parseLine({ text, line: line.line }, file);
  if (parsed.kind === 'close') return closeSection(parsed.name, where, stack);
  if (parsed.kind === 'open') return openSection(parsed.name, parsed.argText, where, state, stack);
  if (skipping) return;
  const key = parsed.name.toLowerCase();
  const node: DirectiveNode = { type: 'directive', name: parsed.name, key, args: [], raw: parsed.argText, ...where };
  node.args = splitWords(parsed.argText, where, parsed.name);
  if (applyReaderDirective(node, state, top.children as ConfigNode[])) return;
  (top.children as ConfigNode[]).push(node);
}

function openSection(name: string, argText: string, where: Where, state: ReadState, stack: Frame[]): void {
  const parent = stack[stack.length - 1] as Frame;
  const key = name.toLowerCase();
  if (parent.children === null) {
    stack.push({ key, name, where, children: null });
    return;
  }
  const args = splitWords(argText, where, `<${name}>`);
  if (CONDITIONALS.has(key)) {
    const ok = evaluateConditional(key, name, args, where, state);
    stack.push({ key, name, where, children: ok ? parent.children : null });
    return;
  }
  const node: SectionNode = { type: 'section', name, key, args, children: [], ...where };
  parent.children.push(node);
  stack.push({ key, name, where, children: node.children });
}

function closeSection(name: string, where: Where, stack: Frame[]): void {
  const open = stack[stack.length - 1] as Frame;
  if (stack.length === 1) {
    throw apacheError(
      E.SYNTAX,
      `</${name}> closes a section that is not open in this file`,
      where,
      `</${name}>`,
      `Remove it, or add the matching <${name} ...> before it`,
    );
  }
  if (open.key !== name.toLowerCase()) {
    throw apacheError(
      E.SYNTAX,
      `</${name}> does not match <${open.name}> opened at ${at(open.where)}`,
      where,
      `</${name}>`,
      `Close <${open.name}> with </${open.name}> first (sections must nest)`,
    );
  }
  stack.pop();
}

function evaluateConditional(key: string, name: string, args: string[], where: Where, state: ReadState): boolean {
  if (key === 'ifversion') return evaluateIfVersion(args, where);
  if (args.length !== 1) {
    throw apacheError(
      E.SYNTAX,
      `<${name}> takes exactly one argument, got ${args.length}`,
      where,
      `<${name}>`,
      key === 'ifmodule' ? 'Write e.g. <IfModule mod_wsgi.c> or <IfModule !wsgi_module>' : 'Write e.g. <IfDefine SSL> or <IfDefine !SSL>',
    );
  }
  const arg = args[0] as string;
  if (key === 'ifmodule') return evaluateNamed(arg, (m) => isModuleLoaded(m, state.modules));
  return evaluateNamed(arg, (d) => state.defines.has(d));
}

/** Directives the reader itself acts on; true when the directive is consumed. */
function applyReaderDirective(node: DirectiveNode, state: ReadState, into: ConfigNode[]): boolean {
  const where = { file: node.file, line: node.line };
  switch (node.key) {
    case 'include':
    case 'includeoptional':
      if (node.args.length !== 1) {
        throw apacheError(
          E.SYNTAX,
          `${node.name} takes one path, got ${node.args.length} arguments`,
          where,
          node.name,
          `Write ${node.name} path/to/file.conf (quote a path with spaces)`,
        );
      }
      for (const f of includeFiles(node.args[0] as string, node.key === 'includeoptional', state.serverRoot, where)) readFile(f, state, into, where);
      return true;
    case 'serverroot':
      if (!state.serverRootFromOption && node.args[0] !== undefined) {
        state.serverRoot = isAbsolute(node.args[0]) ? node.args[0] : resolve(state.serverRoot, node.args[0]);
      }
      return false;
    case 'define':
      if (node.args[0] !== undefined) state.defines.set(node.args[0], node.args[1] ?? '');
      return true;
    case 'undefine':
      if (node.args[0] !== undefined) state.defines.delete(node.args[0]);
      return true;
    case 'loadmodule':
      if (node.args[0] !== undefined) state.modules.add(moduleId(node.args[0]));
      return false;
    default:
      return false;
  }
}

/** ${NAME}: a Define'd value, else the environment; unknown names stay as written (as Apache). */
function expandVariables(text: string, state: ReadState): string {
  return text.replace(/\$\{([A-Za-z0-9_:.-]+)\}/g, (whole, name: string) => state.defines.get(name) ?? process.env[name] ?? whole);
}
