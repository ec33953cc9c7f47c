import { WsgiHostError } from '../errors.js';
import { indent, type MissingModule } from '../python/probe.js';
import { settingWithValue } from '../python/setting-form.js';
import type { LoadFailure } from '../protocol/messages.js';
import { WorkerErrorCode } from '../error-codes.js';
export { WorkerErrorCode } from '../error-codes.js';

/** A group's application raised while loading: the front end refuses to serve it. */
export class AppLoadError extends WsgiHostError {
  readonly failure: LoadFailure;
  constructor(label: string, interpreter: string, failure: LoadFailure) {
    const py = failure.python;
    const hint = loadFailureHint(failure);
    super(
      WorkerErrorCode.APP_LOAD_FAILED,
      `the application of group '${label}' failed to load:\n` +
        `${indent(failure.traceback.trimEnd())}\n\n` +
        `  interpreter:       ${interpreter} (Python ${py.version}, ${py.implementation})\n` +
        `  sys.prefix:        ${py.prefix}\n` +
        `  sys.base_prefix:   ${py.base_prefix}\n` +
        `  working directory: ${failure.cwd}\n` +
        `  sys.path:\n${indent(py.path.map((p) => p || "'' (current directory)").join('\n'), '    ')}`,
      { hint },
    );
    this.failure = failure;
  }
}

/** A worker could not be started or did not report ready. */
export class WorkerStartError extends WsgiHostError {}

/**
 * The fix for an application that does not load. A missing module that is a folder next to the
 * script or in the working directory needs that folder on sys.path (python-path), not pip.
 */
export function missingModuleHint(error: string, missing: MissingModule | undefined, pathSetting: string, prefix: string): string | undefined {
  if (missing !== undefined) {
    return `'${missing.name}' is in ${missing.folder}, which is not on sys.path: ` + `add it with ${settingWithValue(pathSetting, missing.folder)}`;
  }
  const name = /ModuleNotFoundError: No module named '([^']+)'/.exec(error)?.[1];
  if (name === undefined) return undefined;
  return (
    `'${name}' is not importable with this interpreter and sys.path. Install it into the group's ` +
    `environment (${prefix}/bin/python -m pip install ...), point python-home at the environment that has it, ` +
    `or add its folder with ${settingWithValue(pathSetting, 'DIR')}.`
  );
}

function loadFailureHint(failure: LoadFailure): string {
  return (
    missingModuleHint(failure.error, failure.missing, failure.pathSetting ?? 'python-path', failure.python.prefix) ??
    'Fix the error above; the traceback shows where it happened.'
  );
}
