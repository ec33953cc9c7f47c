/**
 * The messages of the worker protocol other than requests and responses: what the front end tells
 * a new worker (INIT), and the decoders for what a worker sends about itself and its files (READY,
 * LOAD_FAILED, LOG, MODULES, CREDIT, FILE). A worker runs code we host, not code we trust: each
 * payload is checked for the shape the front end relies on, and anything else is a
 * WorkerProtocolError.
 */
import { PROTOCOL_VERSION } from './frame-types.js';
import { WorkerProtocolError } from './protocol-error.js';

/** What the worker program says about its interpreter (READY, LOAD_FAILED, and the probe's report). */
export interface PythonInfo {
  executable: string;
  version: string;
  implementation: string;
  prefix: string;
  base_prefix: string;
  path: string[];
  site_packages: string[];
}

/** A module an application imports that is not on sys.path but is a folder (or .py) in `folder`. */
export interface MissingModule {
  name: string;
  folder: string;
}

/** What the worker program is told in its INIT frame. */
export interface WorkerInit {
  group: string;
  applicationGroup: string;
  apps: { kind: 'script' | 'module'; target: string; callable: string; environ?: Record<string, string> }[];
  pythonPath: string[];
  addWorkingDirectory: boolean;
  threads: number;
  multiprocess: boolean;
  requestWindow: number;
  responseWindow: number;
  /** Seconds an idle worker may spin before sleeping (0: never). */
  spinBudget: number;
  /** The process name shown by ps -o comm and top (display-name). */
  displayName?: string;
  /** Report loaded module files (--reload-on-changes). */
  reloadOnChanges?: boolean;
  /** How this group's python-path is written in its input, for the fix of a load failure. */
  pathSetting?: string;
  /** Log lines below this Python level are not sent (the front end would drop them). */
  logLevel?: number;
  environ: Record<string, string>;
}

export function encodeInit(init: WorkerInit): Buffer {
  return Buffer.from(JSON.stringify(init));
}

/** A file the worker offers the front end to send (wsgi.file_wrapper): one of its descriptors. */
export interface FileOffer {
  /** The descriptor's number in the worker process. */
  fd: number;
  offset: number;
  length: number;
}

export interface LoadFailure {
  error: string;
  traceback: string;
  python: PythonInfo;
  cwd: string;
  /** A missing module that is a folder next to the script or in the working directory. */
  missing?: MissingModule;
  /** The INIT's pathSetting, echoed. */
  pathSetting?: string;
}

export interface ReadyInfo {
  protocol: number;
  pid: number;
  python: PythonInfo;
  apps: string[];
  threads: number;
}

function json(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new WorkerProtocolError(`the ${what} frame is not JSON`, { cause: err });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function pythonInfo(v: unknown, what: string): PythonInfo {
  if (
    !isObject(v) ||
    !isString(v.executable) ||
    !isString(v.version) ||
    !isString(v.implementation) ||
    !isString(v.prefix) ||
    !isString(v.base_prefix) ||
    !isStrings(v.path) ||
    !(v.site_packages === undefined || isStrings(v.site_packages))
  ) {
    throw new WorkerProtocolError(`the ${what} frame's interpreter description is malformed`);
  }
  return { ...(v as unknown as PythonInfo), site_packages: (v.site_packages as string[] | undefined) ?? [] };
}

export function decodeReady(payload: Buffer): ReadyInfo {
  const v = json(payload, 'READY');
  if (!isObject(v) || !isCount(v.protocol) || !isCount(v.pid) || !isStrings(v.apps) || !isCount(v.threads)) {
    throw new WorkerProtocolError('the READY frame is malformed');
  }
  if (v.protocol !== PROTOCOL_VERSION) {
    throw new WorkerProtocolError(
      `the worker speaks protocol version ${v.protocol}, this front end speaks version ${PROTOCOL_VERSION}: ` +
        'the worker program (worker/) and the front end (dist/) come from different wsgi-host versions; reinstall wsgi-host',
    );
  }
  return { protocol: v.protocol, pid: v.pid, apps: v.apps, threads: v.threads, python: pythonInfo(v.python, 'READY') };
}

export function decodeLoadFailure(payload: Buffer): LoadFailure {
  const v = json(payload, 'LOAD_FAILED');
  if (!isObject(v) || !isString(v.error) || !isString(v.traceback) || !isString(v.cwd)) {
    throw new WorkerProtocolError('the LOAD_FAILED frame is malformed');
  }
  const failure: LoadFailure = { error: v.error, traceback: v.traceback, cwd: v.cwd, python: pythonInfo(v.python, 'LOAD_FAILED') };
  const m = v.missing;
  if (isObject(m) && isString(m.name) && isString(m.folder)) failure.missing = { name: m.name, folder: m.folder };
  if (isString(v.pathSetting)) failure.pathSetting = v.pathSetting;
  return failure;
}

export function decodeModules(payload: Buffer): string[] {
  const v = json(payload, 'MODULES');
  if (!isStrings(v)) throw new WorkerProtocolError('the MODULES frame is not a list of file names');
  return v;
}

/** A LOG frame: the Python level (10..50) and the line. */
export function decodeLog(payload: Buffer): { level: number; text: string } {
  return { level: payload[0] ?? 40, text: payload.toString('utf8', 1) };
}

export function decodeCredit(payload: Buffer): number {
  if (payload.length !== 4) throw new WorkerProtocolError(`the CREDIT frame has ${payload.length} bytes, not 4`);
  return payload.readUInt32BE(0);
}

export function decodeFileOffer(payload: Buffer): FileOffer {
  const v = json(payload, 'FILE');
  if (!isObject(v) || !isCount(v.fd) || v.fd > 0x7fffffff || !isCount(v.offset) || !isCount(v.length)) {
    throw new WorkerProtocolError('the FILE frame is malformed: it needs {fd, offset, length}, non-negative integers');
  }
  return { fd: v.fd, offset: v.offset, length: v.length };
}
