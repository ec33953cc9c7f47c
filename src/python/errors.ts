import { WsgiHostError } from '../errors.js';

/** A python-home, interpreter or application that cannot be used, found before serving. */
export class PythonEnvironmentError extends WsgiHostError {}

export const PythonErrorCode = {
  HOME_NOT_FOUND: 'PYTHON_HOME_NOT_FOUND',
  HOME_IS_EXECUTABLE: 'PYTHON_HOME_IS_EXECUTABLE',
  HOME_IS_SITE_PACKAGES: 'PYTHON_HOME_IS_SITE_PACKAGES',
  HOME_IS_FILE: 'PYTHON_HOME_NOT_A_DIRECTORY',
  NO_INTERPRETER: 'PYTHON_HOME_NO_INTERPRETER',
  BROKEN_VENV: 'PYTHON_HOME_BROKEN_VENV',
  PREFIX_MISMATCH: 'PYTHON_HOME_PREFIX_MISMATCH',
  TOO_OLD: 'PYTHON_TOO_OLD',
  PROBE_FAILED: 'PYTHON_PROBE_FAILED',
  NOT_RUNNABLE: 'PYTHON_NOT_RUNNABLE',
  NO_PYTHON_ON_PATH: 'PYTHON_NOT_ON_PATH',
} as const;
