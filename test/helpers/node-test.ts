/**
 * node:test, with one change: `describe(name, { skip: reason }, fn)` still lists every test of the
 * suite, each reported as skipped with the reason (node's own suite-level skip shows one line and
 * counts none of its tests, so a summary would say "skipped 0"). Its before and beforeEach hooks do
 * not run then; after hooks do (they clean up what the suite's body made, such as a temporary folder).
 *
 * Test files that skip whole suites for a missing requirement import describe, test, before,
 * after, beforeEach and afterEach from here instead of node:test.
 */
import * as nodeTest from 'node:test';

type Fn = (...args: never[]) => unknown;
type Options = { skip?: boolean | string; [k: string]: unknown };

/** The reason the suite being registered is skipped, while its function runs. */
let skipping: string | undefined;

function split(args: unknown[]): { options: Options; fn: Fn | undefined } {
  const options = (args.find((a) => typeof a === 'object' && a !== null) ?? {}) as Options;
  const fn = args.find((a) => typeof a === 'function') as Fn | undefined;
  return { options, fn };
}

export function describe(name: string, ...args: unknown[]): void {
  const { options, fn } = split(args);
  const reason = skipping ?? (typeof options.skip === 'string' ? options.skip : options.skip === true ? 'skipped' : undefined);
  const { skip: _skip, ...rest } = options;
  nodeTest.describe(name, rest, () => {
    const outer = skipping;
    skipping = reason;
    try {
      (fn as (() => void) | undefined)?.();
    } finally {
      skipping = outer;
    }
  });
}

export function test(name: string, ...args: unknown[]): void {
  const { options, fn } = split(args);
  const opts = skipping === undefined ? options : { ...options, skip: skipping };
  nodeTest.test(name, opts, fn as never);
}

const setup =
  (register: (fn: never, options?: never) => void) =>
  (fn: Fn, options?: unknown): void => {
    if (skipping === undefined) register(fn as never, options as never);
  };

export const before = setup(nodeTest.before);
export const beforeEach = setup(nodeTest.beforeEach);
export const after = nodeTest.after;
export const afterEach = nodeTest.afterEach;
