import { formatSource, type LoadedConfig } from '../config/loaded-config.js';
export { CheckCode } from '../error-codes.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Problem {
  severity: Severity;
  /** Stable: tools and tests match on it. */
  code: string;
  message: string;
  where?: string;
  hint?: string;
}

/** Where a value of the model was written, for a problem's `where`. */
export function where(loaded: LoadedConfig, path: (string | number)[]): string | undefined {
  return formatSource(loaded.describer.locate(path));
}

/** { key: value } when there is a value, else nothing (for optional fields of a problem). */
export function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: string });
}
