/**
 * Access rules of a route, as the config model writes them (mount.access, static.access): a list
 * of rules, each for the requests its matcher selects, applied in order as Apache merges its
 * sections (Directory, then DirectoryMatch, Files, Location). See docs/configuration.md#access.
 *
 *   { require: "all denied" }                                 every request: 403
 *   { path: "/admin", require: ["ip 10.0.0.0/8", "local"] }   any one of the lines (Require ...)
 *   { require: { all: ["all granted", "not ip 203.0.113.0/24"] } }
 *   { files-match: "^\\.", require: "all denied" }             static files whose name starts with '.'
 *   { compat: ["Order deny,allow", "Deny from all", "Allow from 10.1"] }   Apache 2.2 syntax
 */

/** One Require line, a list of them (any one suffices), or a block. */
export type Requirement =
  | string
  | Requirement[]
  | { all: Requirement[] }
  | { any: Requirement[] }
  | { none: Requirement[] }
  | { limit: string[]; require: Requirement }
  | { limitExcept: string[]; require: Requirement };

/** A line of mod_access_compat (Order, Allow from, Deny from, Satisfy), optionally inside <Limit>. */
export type CompatLine = string | { line: string; limit?: string[] | undefined; limitExcept?: string[] | undefined };

export interface AccessRule {
  /** URL prefix, as <Location>: '/admin' covers /admin and /admin/x; '/admin/' only what is below it; * ? [] wildcards. */
  path?: string;
  /** A regular expression searched in the URL path, as <LocationMatch>. */
  pathMatch?: string;
  /** A folder (and what is below it), as <Directory>; wildcards allowed. */
  directory?: string;
  /** A regular expression searched in the file's path, as <DirectoryMatch>. */
  directoryMatch?: string;
  /** A file name (wildcards allowed), as <Files>. */
  files?: string;
  /** A regular expression searched in the file name, as <FilesMatch>. */
  filesMatch?: string;
  /** Require lines (mod_authz_core). */
  require?: Requirement;
  /** AuthMerging: how require combines with the rules before it (default off: it replaces them). */
  merge?: 'off' | 'and' | 'or';
  /** Order/Allow/Deny/Satisfy lines (mod_access_compat); the last rule with them replaces earlier ones. */
  compat?: CompatLine[];
}

export const MATCHER_KEYS = ['path', 'pathMatch', 'directory', 'directoryMatch', 'files', 'filesMatch'] as const;
