import { formatSource, type LoadedConfig } from '../config/loaded-config.js';

export type Severity = 'error' | 'warning' | 'info';

export interface Problem {
  severity: Severity;
  /** Stable: tools and tests match on it. */
  code: string;
  message: string;
  where?: string;
  hint?: string;
}

/** Stable codes of what `wsgi-host check` finds (tools and tests match on them). */
export const CheckCode = {
  ACTIVATE_THIS: 'CHECK_ACTIVATE_THIS',
  APP_IMPORT_FAILED: 'CHECK_APP_IMPORT_FAILED',
  DEFAULT_GROUP_MOUNT: 'CHECK_DEFAULT_GROUP_MOUNT',
  INTERNAL: 'CHECK_INTERNAL',
  NESTED_MOUNT: 'CHECK_NESTED_MOUNT',
  PYTHON_PATH_FAILED: 'CHECK_PYTHON_PATH_FAILED',
  PYTHON_PATH_SITE_PACKAGES: 'CHECK_PYTHON_PATH_SITE_PACKAGES',
  SHADOWED_MOUNT: 'CHECK_SHADOWED_MOUNT',
  SYS_PATH_HACK: 'CHECK_SYS_PATH_HACK',
  UNREADABLE: 'CHECK_UNREADABLE',
  UNUSED_GROUP: 'CHECK_UNUSED_GROUP',
  USER_NOT_APPLIED: 'CHECK_USER_NOT_APPLIED',
} as const;

/** Where a value of the model was written, for a problem's `where`. */
export function where(loaded: LoadedConfig, path: (string | number)[]): string | undefined {
  return formatSource(loaded.describer.locate(path));
}

/** { key: value } when there is a value, else nothing (for optional fields of a problem). */
export function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: string });
}
