/**
 * The wsgi-host worker protocol: frame types, flags and sizes. docs/protocol.md describes it;
 * worker/wsgi_host_worker/wire.py holds the same numbers (test/unit/worker-parity.test.ts compares).
 */
export const PROTOCOL_VERSION = 1;

/** length (u32) | request id (u32) | type (u8) | flags (u8), big-endian. */
export const HEADER_SIZE = 10;

export const FrameType = {
  // front end -> worker
  INIT: 1,
  REQUEST: 2,
  DATA: 3,
  CREDIT: 4,
  CANCEL: 5,
  FILE_DONE: 6,
  SHUTDOWN: 7,
  RECALL: 8,
  // worker -> front end
  READY: 16,
  LOAD_FAILED: 17,
  RESPONSE: 18,
  FILE: 19,
  LOG: 20,
  MODULES: 21,
} as const;

export const Flag = {
  END: 1,
  CONTINUE: 2,
  ABORT: 4,
  /** With END and ABORT on DATA: a recalled request the worker never started (run it elsewhere). */
  NOT_STARTED: 8,
} as const;

export const FileResult = {
  SENT: 0,
  REFUSED: 1,
  ABORTED: 2,
} as const;

/** Request-body bytes the front end sends ahead of the application's reading, per request. */
export const REQUEST_WINDOW = 256 * 1024;
/** Response bytes a worker sends ahead of the client's reading, per request. */
export const RESPONSE_WINDOW = 512 * 1024;

/** The largest payload the front end puts in one frame (the worker's read buffer is 256 KiB). */
export const MAX_FRONT_END_PAYLOAD = 128 * 1024;

/**
 * The largest frame other than DATA a worker may send (RESPONSE heads, LOG lines, READY and
 * LOAD_FAILED reports, MODULES lists): such frames are assembled in memory, so a larger one is a
 * protocol error, never an allocation. DATA is streamed through and bounded by credit instead.
 */
export const MAX_WORKER_FRAME = 16 * 1024 * 1024;
