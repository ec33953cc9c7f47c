import type { Where } from '../errors.js';

/** A directive as read: its name as written, lower-cased key, and arguments (quotes removed). */
export interface DirectiveNode extends Where {
  type: 'directive';
  name: string;
  key: string;
  args: string[];
  /** The argument text as written, for directives that parse their own options. */
  raw: string;
}

/** A section (<VirtualHost>, <Directory>...) with what is inside it. Conditionals are resolved away. */
export interface SectionNode extends Where {
  type: 'section';
  name: string;
  key: string;
  args: string[];
  children: ConfigNode[];
}

export type ConfigNode = DirectiveNode | SectionNode;

/** A value and where it was set. */
export interface Sourced<T> {
  value: T;
  at: Where;
}

export const whereOf = (n: Where): Where => ({ file: n.file, line: n.line });
