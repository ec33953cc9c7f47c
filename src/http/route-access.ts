import { stat } from 'node:fs/promises';
import type { HttpRequest, HttpResponse } from './message.js';
import { compilePolicy, type CompiledPolicy } from '../access/compile.js';
import { decide, type AccessFacts } from '../access/evaluate.js';
import type { AccessRule } from '../access/policy.js';
import type { ServerConfig } from '../config/schema.js';
import type { ServePlan } from '../config/plan.js';
import { sendError } from './error-response.js';

/**
 * Access control where the front end serves: the compiled rules of each route (from the model's
 * mount.access and static.access) and the decision for a request (src/access/evaluate.ts).
 * A refused request gets 403, as in Apache.
 */

/** What a route carries for access control and Apache's prefix rules. */
export interface RouteAccess {
  /** The prefix was written with a trailing slash: it does not match the prefix itself. */
  slash?: boolean;
  access?: CompiledPolicy;
  /** A mount's script, what <Directory> and <Files> rules match. */
  file?: string;
}

/** The route extras of a mount or static alias at `path` in the model. */
export function routeAccess(plan: ServePlan, path: (string | number)[], file?: string): RouteAccess {
  const item = modelItem(plan.config, path);
  const out: RouteAccess = {};
  if (item?.path !== undefined && item.path.length > 1 && item.path.endsWith('/')) out.slash = true;
  if (item?.access !== undefined && item.access.length > 0) out.access = compilePolicy(item.access);
  if (file !== undefined) out.file = file;
  return out;
}

function modelItem(config: ServerConfig, path: (string | number)[]): { path?: string; access?: AccessRule[] } | undefined {
  let node: unknown = config;
  for (const p of path) node = (node as Record<string | number, unknown> | undefined)?.[p];
  return node as { path?: string; access?: AccessRule[] } | undefined;
}

/**
 * Whether an application route refuses the request (403). client: the client's address as the
 * request resolved it (the PROXY header's, or a trusted proxy's header: routes.ts), which
 * `Require ip` checks, as Apache's does behind mod_remoteip.
 */
export function appDenied(r: RouteAccess, req: HttpRequest, path: string, pathInfo: string, client: string): boolean {
  if (r.access === undefined) return false;
  return !decide(r.access, { ...requestFacts(req, path, client), file: r.file, pathInfo }).allowed;
}

/**
 * Serves a static request through `serve` when the rules let it in, else 403 (client: as appDenied's). The file a request
 * maps to is the folder plus the path below the prefix, as Apache's Alias maps it; a folder
 * request is also checked for the index file it would be answered with.
 */
export function guardStatic(
  r: RouteAccess,
  req: HttpRequest,
  res: HttpResponse,
  directory: string,
  subPath: string,
  path: string,
  requestId: string,
  client: string,
  serve: () => void,
): void {
  const policy = r.access;
  if (policy === undefined) return serve();
  const file = directory + fileName(subPath);
  const base = requestFacts(req, path, client);
  const check = (isDirectory: boolean): void => {
    let ok = decide(policy, { ...base, file, fileIsDirectory: isDirectory }).allowed;
    if (ok && (isDirectory || subPath.endsWith('/')) && path.endsWith('/')) {
      ok = decide(policy, { ...base, path: `${path}index.html`, file: `${file.replace(/\/$/, '')}/index.html` }).allowed;
    }
    if (ok) serve();
    else sendError(res, 403, requestId);
  };
  if (!policy.dependsOnFile || subPath.endsWith('/')) return check(subPath.endsWith('/'));
  stat(file).then(
    (s) => check(s.isDirectory()),
    () => check(false),
  );
}

function requestFacts(req: HttpRequest, path: string, client: string): AccessFacts {
  return { method: req.method as string, path, client, server: req.socket.localAddress ?? '' };
}

/** The path below the prefix as a file name: UTF-8 when it is UTF-8, as the static server reads it. */
function fileName(subPath: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(subPath, 'latin1'));
  } catch {
    return subPath;
  }
}
