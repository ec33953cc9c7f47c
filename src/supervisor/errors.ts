import { WsgiHostError } from '../errors.js';
import { indent } from '../python/probe.js';
import type { LoadFailure } from './worker-process.js';

/** A group's application raised while loading: the front end refuses to serve it. */
export class AppLoadError extends WsgiHostError {
  readonly failure: LoadFailure;
  constructor(label: string, interpreter: string, failure: LoadFailure) {
    const py = failure.python;
    const missing = /ModuleNotFoundError: No module named '([^']+)'/.exec(failure.error);
    const hint = missing
      ? `'${missing[1]}' is not importable with this interpreter and sys.path. Install it into the group's ` +
        `environment (${py.prefix}/bin/python -m pip install ...), point python-home at the environment that has it, ` +
        `or add its folder with python-path.`
      : 'Fix the error above; the traceback shows where it happened.';
    super(
      'APP_LOAD_FAILED',
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
