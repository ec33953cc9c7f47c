import { WsgiHostError } from '../errors.js';
export { PythonErrorCode } from '../error-codes.js';

/** A python-home, interpreter or application that cannot be used, found before serving. */
export class PythonEnvironmentError extends WsgiHostError {}
