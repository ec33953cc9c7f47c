import { z } from 'zod';
import { AccessRuleError, compilePolicy } from '../access/compile.js';
import type { AccessRule, CompatLine, Requirement } from '../access/policy.js';

/**
 * The model's access rules (mount.access, static.access; see src/access/policy.ts and
 * docs/configuration.md#access). Validation compiles them, so a bad address or an impossible
 * 'not' is an error naming its key, as Apache refuses such lines when it starts.
 */

const methods = z.array(z.string().regex(/^[A-Za-z-]+$/, 'an HTTP method')).min(1);

export const RequirementSchema: z.ZodType<Requirement> = z.lazy(() =>
  z.union([
    z.string().min(1),
    z.array(RequirementSchema).min(1),
    z.strictObject({ all: z.array(RequirementSchema).min(1) }),
    z.strictObject({ any: z.array(RequirementSchema).min(1) }),
    z.strictObject({ none: z.array(RequirementSchema).min(1) }),
    z.strictObject({ limit: methods, require: RequirementSchema }),
    z.strictObject({ limitExcept: methods, require: RequirementSchema }),
  ]),
);

const CompatLineSchema: z.ZodType<CompatLine> = z.union([
  z.string().min(1),
  z.strictObject({ line: z.string().min(1), limit: methods.optional(), limitExcept: methods.optional() }),
]);

export const AccessRuleSchema = z.strictObject({
  /** URL prefix (<Location>). */
  path: z.string().min(1).optional(),
  /** Regular expression on the URL path (<LocationMatch>). */
  pathMatch: z.string().min(1).optional(),
  /** Folder (<Directory>). */
  directory: z.string().min(1).optional(),
  /** Regular expression on the file's path (<DirectoryMatch>). */
  directoryMatch: z.string().min(1).optional(),
  /** File name (<Files>). */
  files: z.string().min(1).optional(),
  /** Regular expression on the file name (<FilesMatch>). */
  filesMatch: z.string().min(1).optional(),
  /** Require lines: one, a list (any one suffices), or { all | any | none | limit | limit-except } blocks. */
  require: RequirementSchema.optional(),
  /** AuthMerging: off (default: replaces earlier rules' require), and, or. */
  merge: z.enum(['off', 'and', 'or']).optional(),
  /** Order / Allow from / Deny from / Satisfy lines (Apache 2.2 syntax). */
  compat: z.array(CompatLineSchema).optional(),
});

export const AccessSchema = z.array(AccessRuleSchema).superRefine((rules, ctx) => {
  try {
    compilePolicy(rules as AccessRule[]);
  } catch (err) {
    if (!(err instanceof AccessRuleError)) throw err;
    ctx.addIssue({ code: 'custom', message: `${err.message}. ${err.hint}`, path: err.path });
  }
});
