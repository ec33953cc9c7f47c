/**
 * The front end (src/protocol) and the worker (worker/wsgi_host_worker/wire.py) hold the same
 * protocol numbers twice, once per language: these tests load the worker package as its boot does
 * (under Python) and compare. The flow-control windows are not duplicated: the worker takes them
 * from INIT.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { frame } from '../../src/protocol/frame-encoder.js';
import { FileResult, Flag, FrameType, HEADER_SIZE, MAX_FRONT_END_PAYLOAD, PROTOCOL_VERSION } from '../../src/protocol/frame-types.js';
import { WorkerProtocolError } from '../../src/protocol/protocol-error.js';
import { encodeRequestHead, FIXED_FIELDS, joinHeaders, type RequestFields as RequestHead } from '../../src/protocol/request-head.js';
import { decodeResponseHead } from '../../src/protocol/response-head.js';
import { MIN_PYTHON, PROBE_MARKER, WORKER_BOOT, WORKER_PACKAGE } from '../../src/python/worker-program.js';
import { decodeReady } from '../../src/protocol/messages.js';
import { discoverInterpreters } from '../helpers/python.js';

/** Loads the package through the boot's own _wsgi_host_install, then reports from inside it. */
const PYTHON_SIDE = String.raw`
import json, sys
boot, folder, request_head, frame_hex = sys.argv[1:5]
ns = {"__name__": "_wsgi_host_boot"}
exec(compile(open(boot).read(), boot, "exec"), ns)
ns["_wsgi_host_install"](folder)
pkg = sys.modules["_wsgi_host_worker"]
w = pkg.wire
wire = dict((k, v) for k, v in vars(w).items() if k.isupper() and isinstance(v, (int, str)))
wire["HEADER_FORMAT"] = w.HEADER.format
status, head = pkg.wsgi.encode_head("201 Created", [("X-A", "1"), ("Set-Cookie", "a=b")], ("Content-Length", "2"))
fields = bytes.fromhex(request_head).decode("latin-1").split("\0")
base = pkg.environ.base_environ({}, {"kind": "module", "target": "x:y"}, 1, None, None)
env = pkg.environ.build_environ(fields, base, {})
print(json.dumps({
    "wire": wire,
    "frame": list(w.HEADER.unpack_from(bytes.fromhex(frame_hex))),
    "response": (w.RESPONSE_PREFIX.pack(status, len(head)) + head + b"ok").hex(),
    "environ": dict((k, v) for k, v in env.items() if isinstance(v, str)),
}))
`;

const HEAD: RequestHead = {
  appIndex: 0,
  method: 'PUT',
  scriptName: '/app',
  pathInfo: '/x y',
  queryString: 'a=1',
  requestUri: '/app/x%20y?a=1',
  protocol: 'HTTP/1.1',
  remoteAddr: '192.0.2.7',
  remotePort: '40000',
  serverName: 'example.org',
  serverPort: '8443',
  scheme: 'https',
  requestId: 'req-42',
};

interface PythonSide {
  wire: Record<string, number | string>;
  frame: number[];
  response: string;
  environ: Record<string, string>;
}

describe('the TypeScript and Python sides of the protocol agree', () => {
  const python = discoverInterpreters()[0];
  const headBytes = Buffer.from(encodeRequestHead(HEAD, joinHeaders(['Host', 'example.org', 'X-Trace', 't1'])), 'latin1');
  const framed = frame(FrameType.CREDIT, 0x01020304, Flag.END | Flag.CONTINUE, Buffer.from('abc'));
  let side: PythonSide | undefined;
  const py = (): PythonSide => {
    assert.ok(python, 'a Python 3.8+ on this machine');
    side ??= JSON.parse(
      execFileSync(python.path, ['-c', PYTHON_SIDE, WORKER_BOOT, WORKER_PACKAGE, headBytes.toString('hex'), framed.subarray(0, HEADER_SIZE).toString('hex')], {
        encoding: 'utf8',
        timeout: 30_000,
      }),
    ) as PythonSide;
    return side;
  };

  test('frame types, flags and FILE_DONE results: the same names and numbers on both sides', () => {
    const { wire } = py();
    const pythonNames = (prefix: string): Record<string, number> =>
      Object.fromEntries(
        Object.entries(wire)
          .filter(([k, v]) => k.startsWith(prefix) && typeof v === 'number')
          .map(([k, v]) => [k.slice(prefix.length), v as number]),
      );
    assert.deepEqual(pythonNames('T_'), { ...FrameType });
    assert.deepEqual(pythonNames('F_'), { ...Flag });
    assert.deepEqual(pythonNames('FILE_'), { ...FileResult });
  });

  test('the header, the version, the request head and the read buffer', () => {
    const { wire, frame: unpacked } = py();
    assert.equal(wire.PROTOCOL_VERSION, PROTOCOL_VERSION);
    assert.equal(wire.HEADER_SIZE, HEADER_SIZE);
    assert.equal(wire.HEADER_FORMAT, '>IIBB', 'length u32, request id u32, type u8, flags u8, big-endian');
    assert.deepEqual(unpacked, [3, 0x01020304, FrameType.CREDIT, Flag.END | Flag.CONTINUE], 'a header the front end encodes, as the worker reads it');
    assert.equal(wire.FIXED_FIELDS, FIXED_FIELDS);
    assert.ok((wire.READ_BUFFER as number) >= MAX_FRONT_END_PAYLOAD + HEADER_SIZE, "the front end's largest frame fits the worker's read buffer");
  });

  test('a REQUEST head the front end encodes becomes the environ its fields name', () => {
    const env = py().environ;
    assert.deepEqual(
      [env.REQUEST_METHOD, env.SCRIPT_NAME, env.PATH_INFO, env.QUERY_STRING, env.REQUEST_URI, env.SERVER_PROTOCOL],
      [HEAD.method, HEAD.scriptName, HEAD.pathInfo, HEAD.queryString, HEAD.requestUri, HEAD.protocol],
    );
    assert.deepEqual(
      [env.REMOTE_ADDR, env.REMOTE_PORT, env.SERVER_NAME, env.SERVER_PORT, env['wsgi.url_scheme'], env['mod_wsgi.request_id']],
      [HEAD.remoteAddr, HEAD.remotePort, HEAD.serverName, HEAD.serverPort, HEAD.scheme, HEAD.requestId],
    );
    assert.equal(env.HTTP_HOST, 'example.org');
    assert.equal(env.HTTP_X_TRACE, 't1');
  });

  test('a RESPONSE payload the worker encodes decodes to what the application said', () => {
    const r = decodeResponseHead(Buffer.from(py().response, 'hex'));
    assert.equal(r.status, 201);
    assert.equal(r.reason, 'Created');
    assert.deepEqual(r.headers, ['X-A', '1', 'Set-Cookie', 'a=b', 'Content-Length', '2']);
    assert.equal(r.contentLength, 2);
    assert.equal(r.body.toString(), 'ok');
  });

  test('the boot names the same oldest Python and probe marker as the front end', () => {
    assert.equal(py().wire.PROBE_MARKER, PROBE_MARKER);
    const boot = readFileSync(WORKER_BOOT, 'utf8');
    assert.ok(boot.includes(`sys.version_info[:2] < (${MIN_PYTHON.join(', ')})`), `boot.py checks for Python ${MIN_PYTHON.join('.')}`);
    assert.ok(boot.includes(`'${PROBE_MARKER}'`), 'boot.py prints the probe marker');
  });
});

describe('READY', () => {
  const ready = (protocol: number): Buffer =>
    Buffer.from(
      JSON.stringify({
        protocol,
        pid: 1,
        apps: [],
        threads: 1,
        python: { executable: '/p', version: '3.11.2', implementation: 'cpython', prefix: '/', base_prefix: '/', path: [] },
      }),
    );

  test("a worker that speaks this front end's protocol version is ready", () => {
    assert.equal(decodeReady(ready(PROTOCOL_VERSION)).protocol, PROTOCOL_VERSION);
  });

  test('a worker that speaks another protocol version is refused, and the error says why', () => {
    assert.throws(
      () => decodeReady(ready(PROTOCOL_VERSION + 1)),
      (err: unknown) =>
        err instanceof WorkerProtocolError &&
        err.message.includes(`protocol version ${PROTOCOL_VERSION + 1}, this front end speaks version ${PROTOCOL_VERSION}`) &&
        /reinstall wsgi-host/.test(err.message),
    );
  });
});
