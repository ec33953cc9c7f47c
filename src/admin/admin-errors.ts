import { WsgiHostError } from '../errors.js';
export { AdminErrorCode } from '../error-codes.js';

export class AdminError extends WsgiHostError {}
