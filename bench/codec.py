"""Micro-benchmark of the worker's side of the protocol, with the worker's own functions
(worker/wsgi_host_worker, loaded by worker/boot.py as the worker loads it): read REQUEST frames off
the socket buffer and dispatch them (Connection._read_frames, Connection._dispatch), split the
head, and build the environ (environ.build_environ). Run: npm run bench -- --codec, or
python3 bench/codec.py
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "..", "worker")
_boot = {"__name__": "_wsgi_host_boot"}
with open(os.path.join(WORKER, "boot.py")) as f:
    exec(compile(f.read(), os.path.join(WORKER, "boot.py"), "exec"), _boot)
_boot["_wsgi_host_install"](os.path.abspath(os.path.join(WORKER, "wsgi_host_worker")))
pkg = sys.modules["_wsgi_host_worker"]
w = pkg.wire

# The same head the front end sends for wrk's GET /hello (see bench/codec.ts).
FIELDS = ["0", "GET", "", "/hello", "", "/hello", "HTTP/1.1", "127.0.0.1", "54321", "127.0.0.1",
          "8000", "http", "req-1",
          "Host", "127.0.0.1:8000", "User-Agent", "wrk/4.1", "Accept", "*/*", "Connection", "keep-alive"]
PAYLOAD = "\0".join(FIELDS).encode("latin-1")


def request_frame(rid):
    return w.HEADER.pack(len(PAYLOAD), rid, w.T_REQUEST, w.F_END) + PAYLOAD


class FeedSocket(object):
    """Stands in for fd 3: every recv_into returns the same chunk of frames."""

    def __init__(self, chunk):
        self.chunk = chunk

    def recv_into(self, view):
        n = len(self.chunk)
        view[:n] = self.chunk
        return n


def make(frames_per_read):
    chunk = b"".join(request_frame(i + 1) for i in range(frames_per_read))
    conn = pkg.connection.Connection(FeedSocket(chunk))
    conn.response_window = 512 * 1024
    conn.request_window = 256 * 1024
    worker = pkg.serve.Worker(conn, {"threads": 1, "apps": [
        {"kind": "script", "target": os.path.join(HERE, "apps", "hello.py")}]})
    worker.load()
    return conn, worker


def ops_per_second(step, per_step, seconds=1.0):
    for _ in range(2000):
        step()
    ops = 0
    start = time.perf_counter()
    while True:
        for _ in range(200):
            step()
        ops += 200 * per_step
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return ops / elapsed


def decode_step(conn, sink):
    def step():
        for frame in conn._read_frames():
            conn._dispatch(frame)
        while conn.pending:
            req = conn.pending.popleft()
            sink.append(req.head.split("\0"))
            del conn.requests[req.id]
        sink.clear()
    return step


def full_step(conn, worker):
    app = worker.apps[0]
    build_environ = pkg.environ.build_environ
    thread = pkg.environ.ThreadState()

    def step():
        for frame in conn._read_frames():
            conn._dispatch(frame)
        while conn.pending:
            req = conn.pending.popleft()
            fields = req.head.split("\0")
            build_environ(fields, app.base_environ, worker.header_keys, thread)
            del conn.requests[req.id]
    return step


def main():
    print("codec (Python %s, worker/wsgi_host_worker):" % sys.version.split()[0])
    for per_read in (1, 64):
        conn, _ = make(per_read)
        rate = ops_per_second(decode_step(conn, []), per_read)
        print("  decode REQUEST frame + split head, %2d per read:  %s ops/s" % (per_read, format(int(rate), ",")))
    conn, worker = make(1)
    fields = PAYLOAD.decode("latin-1").split("\0")
    app = worker.apps[0]
    build_environ = pkg.environ.build_environ
    thread = pkg.environ.ThreadState()
    rate = ops_per_second(lambda: build_environ(fields, app.base_environ, worker.header_keys, thread), 1)
    print("  build environ (environ.build_environ):           %s ops/s" % format(int(rate), ","))
    for per_read in (1, 64):
        conn, worker = make(per_read)
        rate = ops_per_second(full_step(conn, worker), per_read)
        print("  decode + environ, %2d per read:                   %s ops/s" % (per_read, format(int(rate), ",")))


if __name__ == "__main__":
    main()
