import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_PY } from './fixtures/hostile-app.js';
import { request } from './helpers/http.js';
import { defaultPython, makeVenv, systemPython } from './helpers/python.js';
import { tempDir } from './helpers/tmp.js';
import { processAlive, WsgiHost } from './helpers/wsgi-host.js';

const root = process.getuid?.() === 0;

const SIZE = 64;
const SECRET = 'TOP-SECRET-root-only-'.padEnd(SIZE, 'S');
const PUBLIC = 'public-content-'.padEnd(SIZE, 'p');

const APP = `${HOSTILE_PY}
import os, socket, threading

E = os.environ
KEEP = {}

class Fd(object):
    """A file-like object over a raw descriptor; read() refuses when the front end must send it."""
    def __init__(self, fd, must_offload=False, keep=None):
        self.fd = fd
        self.must_offload = must_offload
        self.keep = keep
    def fileno(self):
        return self.fd
    def tell(self):
        return 0
    def read(self, n):
        if self.must_offload:
            raise AssertionError("the worker read the file: the front end did not send it")
        return os.read(self.fd, n)
    def close(self):
        os.close(self.fd)

def open_kind(kind):
    """A descriptor of each kind the worker may offer, and the path an older front end would open."""
    if kind == "opath":
        return os.open(E["SECRET"], os.O_PATH), E["SECRET"], None
    if kind == "fifo":
        return os.open(E["FIFO"], os.O_RDONLY | os.O_NONBLOCK), E["FIFO"], None
    if kind == "dir":
        return os.open(E["DIR"], os.O_RDONLY), E["DIR"], None
    if kind == "socket":
        a, b = socket.socketpair()
        b.sendall(b"from a socket")
        b.close()
        return a.fileno(), "/nonexistent", a
    if kind == "wronly":
        return os.open(E["SHARED"], os.O_WRONLY), E["SHARED"], None
    if kind == "public":
        return os.open(E["PUBLIC"], os.O_RDONLY), E["PUBLIC"], None
    raise ValueError(kind)

RACE_FD = 200
_flipper = []

def start_flipper():
    # One thread swaps descriptor RACE_FD between a readable public file and an O_PATH descriptor
    # of the root-only file, as fast as it can: a check-then-open front end would be fooled.
    if _flipper:
        return
    public = os.open(E["PUBLIC"], os.O_RDONLY)
    secret = os.open(E["SECRET"], os.O_PATH)
    os.dup2(public, RACE_FD)
    def flip():
        while True:
            os.dup2(secret, RACE_FD)
            os.dup2(public, RACE_FD)
    t = threading.Thread(target=flip, daemon=True)
    t.start()
    _flipper.append(t)

def application(environ, start_response):
    p = environ["PATH_INFO"]
    q = environ["QUERY_STRING"]
    if p == "/health":
        start_response("200 OK", [])
        return [b"ok"]
    if p == "/honest":
        fd, path, keep = open_kind(q)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](Fd(fd, must_offload=(q == "public"), keep=keep))
    if p == "/hostile":
        fd, path, keep = open_kind(q)
        KEEP[fd] = keep
        start_response("200 OK", [])
        offer_fd(start_response, fd, ${SIZE}, path=path)
    if p == "/race":
        start_flipper()
        start_response("200 OK", [])
        offer_fd(start_response, RACE_FD, ${SIZE}, path=E["SECRET"])
    start_response("404 Not Found", [])
    return [b""]
`;

describe('file offload never reads with more privilege than the worker (as root, with a user=nobody group)', {
  skip: root ? false : 'needs root: run the suite as root (user= needs it)',
}, () => {
  const t = tempDir();
  let host: WsgiHost;

  before(async () => {
    chmodSync(t.dir, 0o755);
    // Debian's interpreter: one under root's home (pyenv's) cannot be run by nobody.
    makeVenv(join(t.dir, 'venv'), { python: (systemPython() ?? defaultPython()).path });
    const app = t.file('app.wsgi', APP);
    chmodSync(app, 0o644);
    const secret = t.file('secret.txt', SECRET);
    chmodSync(secret, 0o600); // root's own 0600 file (never /etc/shadow in a test)
    const pub = t.file('public.txt', PUBLIC);
    chmodSync(pub, 0o644);
    const shared = t.file('shared.txt', '');
    chmodSync(shared, 0o666);
    const fifo = join(t.dir, 'fifo');
    execFileSync('mkfifo', ['-m', '0666', fifo]);
    const dir = join(t.dir, 'dir');
    mkdirSync(dir, { mode: 0o755 });
    const statics = join(t.dir, 'static');
    mkdirSync(statics, { mode: 0o755 });
    writeFileSync(join(statics, 'hello.txt'), 'static hello');
    const config = t.file(
      'site.toml',
      `listen = ["127.0.0.1:0"]
[[group]]
name = "jail"
python-home = "venv"
user = "nobody"
processes = 1
threads = 12
request-timeout = 30
[[mount]]
path = "/"
script = "app.wsgi"
group = "jail"
[[static]]
path = "/static"
directory = "static"
`,
    );
    host = await WsgiHost.serve(['-c', config], {
      cwd: t.dir,
      env: { SECRET: secret, PUBLIC: pub, SHARED: shared, FIFO: fifo, DIR: dir },
    });
  });
  after(async () => {
    await host?.stop();
    t.cleanup();
  });

  async function stillServing(what: string): Promise<void> {
    assert.ok(processAlive(host.pid), `the server exited after ${what}`);
    const started = Date.now();
    const s = await request(`${host.url}/static/hello.txt`, { timeoutMs: 3000 });
    assert.equal(s.text, 'static hello');
    const r = await request(`${host.url}/health`, { timeoutMs: 3000 });
    assert.equal(r.text, 'ok');
    assert.ok(Date.now() - started < 3000, `static files and the next request answered at once after ${what}`);
  }

  test('a readable regular file is sent by the front end (the worker never reads it)', async () => {
    const honest = await request(`${host.url}/honest?public`);
    assert.equal(honest.status, 200);
    assert.equal(honest.text, PUBLIC);
    const hostile = await request(`${host.url}/hostile?public`);
    assert.equal(hostile.text, `${PUBLIC}file-result=0`);
  });

  test('an O_PATH descriptor of a root-only file: refused; the worker can read nothing of it itself', async () => {
    const honest = await request(`${host.url}/honest?opath`);
    assert.equal(honest.status, 500, 'the worker cannot read an O_PATH descriptor: the application fails');
    assert.doesNotMatch(honest.text, /TOP-SECRET/);
    const hostile = await request(`${host.url}/hostile?opath`, { timeoutMs: 10_000 });
    assert.doesNotMatch(hostile.text, /TOP-SECRET/);
    assert.equal(hostile.text, 'file-result=1');
    await host.waitForLog(/offered its file descriptor \d+, which the front end does not send: descriptor \d+ is an O_PATH descriptor/);
    await stillServing('an O_PATH offer');
  });

  test('a FIFO never blocks the front end: refused at once, even offered many times together', async () => {
    const honest = await request(`${host.url}/honest?fifo`, { timeoutMs: 10_000 });
    assert.equal(honest.status, 200);
    assert.equal(honest.text, '', 'the worker reads the FIFO itself (empty: no writer)');
    const many = await Promise.all(
      Array.from({ length: 8 }, () =>
        request(`${host.url}/hostile?fifo`, { timeoutMs: 5000 }).then(
          (r) => r.text,
          (err: Error) => `failed: ${err.message}`,
        ),
      ),
    );
    assert.deepEqual(many, Array(8).fill('file-result=1'));
    await stillServing('FIFO offers');
  });

  test('a directory, a socket and a write-only descriptor: refused; the worker answers as it can', async () => {
    assert.equal((await request(`${host.url}/honest?dir`)).status, 500, 'reading a directory fails in the application');
    assert.equal((await request(`${host.url}/honest?socket`)).text, 'from a socket');
    assert.equal((await request(`${host.url}/honest?wronly`)).status, 500, 'a write-only descriptor cannot be read');
    for (const kind of ['dir', 'socket', 'wronly']) {
      const r = await request(`${host.url}/hostile?${kind}`, { timeoutMs: 10_000 });
      assert.equal(r.text, 'file-result=1', kind);
      await stillServing(`a ${kind} offer`);
    }
  });

  test('a descriptor swapped (dup2) between the checks and the open never leaks the root-only file', async () => {
    for (let i = 0; i < 150; i++) {
      const r = await request(`${host.url}/race`, { timeoutMs: 10_000 });
      assert.doesNotMatch(r.text, /TOP-SECRET/, `attempt ${i}`);
      assert.ok(r.text === `${PUBLIC}file-result=0` || r.text === 'file-result=1', r.text);
    }
    await stillServing('the dup2 race');
  });
});
