"""The worker over a real socket, as the front end drives it: serving, flow control, cancel,
recall, shutdown, file offload."""

import json
import os
import socket
import struct
import textwrap
import unittest

from harness import WorkerProcess, load
from test_heap import CHURN_CODE, GLIBC, PRIMED_FAULTS_AT_MOST

w = load().wire
RESPONSE_PREFIX = w.RESPONSE_PREFIX
HEADER_PACK = w.HEADER.pack


class Protocol(unittest.TestCase):
    """The worker program over a real socketpair (its file descriptor 3), as the front end drives it."""

    via_socket_path = False

    def start(self, app_source, threads=1, window=1 << 16, extra=None):
        self.worker = WorkerProcess(via_socket_path=self.via_socket_path)
        self.tmp = self.worker.tmp
        path = os.path.join(self.tmp.name, "app.wsgi")
        with open(path, "w") as f:
            f.write(textwrap.dedent(app_source))
        self.proc = self.worker.proc
        init = {"group": "g", "applicationGroup": "%{GLOBAL}", "threads": threads, "multiprocess": False,
                "apps": [{"kind": "script", "target": path, "callable": "application"}], "pythonPath": [],
                "requestWindow": window, "responseWindow": window, "spinBudget": 0, "environ": {}}
        init.update(extra or {})
        self.send(w.T_INIT, 0, 0, json.dumps(init).encode())
        ftype, _, _, payload = self.frame()
        self.assertEqual(ftype, w.T_READY, payload)
        return json.loads(payload.decode("utf-8"))

    def tearDown(self):
        worker = getattr(self, "worker", None)
        if worker is None:
            return
        if self.proc is None:  # the test saw the process exit
            worker.proc.stdin.close()
            worker.sock.close()
            worker.tmp.cleanup()
            return
        self.assertEqual(worker.close(), 0, "the worker exits when the front end goes away")

    @property
    def sock(self):
        return self.worker.sock

    def send(self, ftype, rid, flags, payload=b""):
        self.worker.send(ftype, rid, flags, payload)

    def frame(self, logs=None):
        return self.worker.frame(logs)

    def request(self, rid, method="GET", path="/", headers=(), flags=w.F_END):
        fields = ["0", method, "", path, "", path, "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "rid%d" % rid]
        for k, v in headers:
            fields += [k, v]
        self.send(w.T_REQUEST, rid, flags, "\0".join(fields).encode("latin-1"))

    def test_whole_response_in_one_frame(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [("X-Path", environ["PATH_INFO"])])
                return [b"hello"]
        """)
        self.request(7, path="/p")
        ftype, rid, flags, payload = self.frame()
        self.assertEqual((ftype, rid, flags & w.F_END), (w.T_RESPONSE, 7, w.F_END))
        status, head_len = RESPONSE_PREFIX.unpack_from(payload)
        head = payload[6:6 + head_len].decode("latin-1").split("\0")
        self.assertEqual(status, 200)
        self.assertEqual(head, ["OK", "X-Path", "/p", "Content-Length", "5"])
        self.assertEqual(payload[6 + head_len:], b"hello")

    @unittest.skipUnless(GLIBC, "the thresholds primed are glibc's")
    def test_the_worker_primes_its_allocator_before_serving(self):
        """Blocks of a request body chunk's size come and go in the worker without page faults
        (heap.py): an application that churns them from three threads reports how many it took."""
        self.start(CHURN_CODE + """
def application(environ, start_response):
    start_response("200 OK", [])
    return [str(churn_faults()).encode()]
""")
        self.request(3)
        ftype, rid, _, payload = self.frame()
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 3))
        faults = int(self.head_of(payload)[2])
        self.assertLess(faults, PRIMED_FAULTS_AT_MOST, "page faults in the worker: %d" % faults)

    def head_of(self, payload):
        status, head_len = RESPONSE_PREFIX.unpack_from(payload)
        return status, payload[6:6 + head_len].decode("latin-1").split("\0"), payload[6 + head_len:]

    def test_bodyless_responses(self):
        """204 and HEAD send no body bytes, whether returned as a list or iterated; a 204 gets no
        Content-Length, a HEAD the length its GET would have."""
        self.start("""
            def application(environ, start_response):
                p = environ["PATH_INFO"]
                start_response("204 No Content" if p.startswith("/204") else "200 OK", [])
                if p.endswith("/iter"):
                    return iter([b"abc", b"def"])
                return [b"abcdef"]
        """)
        cases = [("GET", "/204", 204, ["No Content"]), ("GET", "/204/iter", 204, ["No Content"]),
                 ("HEAD", "/", 200, ["OK", "Content-Length", "6"]), ("HEAD", "/iter", 200, ["OK"])]
        for rid, (method, path, code, fields) in enumerate(cases, 1):
            self.request(rid, method=method, path=path)
            ftype, got_rid, flags, payload = self.frame()
            self.assertEqual((ftype, got_rid), (w.T_RESPONSE, rid), path)
            self.assertEqual(self.head_of(payload), (code, fields, b""), (method, path))
            while not flags & w.F_END:
                ftype, got_rid, flags, payload = self.frame()
                self.assertEqual((ftype, got_rid, payload), (w.T_DATA, rid, b""), (method, path))
            self.assertFalse(flags & w.F_ABORT, (method, path))

    def test_status_that_is_not_a_str_is_a_named_wsgi_error(self):
        """start_response(200, ...) gets a 500 and the log names the rule, not a TypeError."""
        self.start("""
            def application(environ, start_response):
                start_response(200, [])
                return [b"x"]
        """)
        self.request(1)
        logs = []
        ftype, rid, _, payload = self.frame(logs)
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 1))
        self.assertEqual(self.head_of(payload)[0], 500)
        text = "\n".join(logs)
        self.assertIn("status must be a str", text)
        self.assertNotIn("TypeError", text)

    def test_file_wrapper_is_offered_to_the_front_end(self):
        self.start("""
            import os
            def application(environ, start_response):
                start_response("200 OK", [("Content-Type", "text/plain")])
                f = open(environ["PATH_INFO"], "rb")
                f.seek(int(environ["QUERY_STRING"] or "0"))
                return environ["wsgi.file_wrapper"](f)
        """)
        path = os.path.join(self.tmp.name, "data.txt")
        with open(path, "wb") as f:
            f.write(b"0123456789")
        st = os.stat(path)
        fields = ["0", "GET", "", path, "3", path, "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "r1"]
        self.send(w.T_REQUEST, 1, w.F_END, "\0".join(fields).encode("latin-1"))
        ftype, rid, flags, payload = self.frame()
        self.assertEqual((ftype, rid, flags), (w.T_RESPONSE, 1, 0))
        self.assertEqual(self.head_of(payload), (200, ["OK", "Content-Type", "text/plain", "Content-Length", "7"], b""))
        ftype, rid, flags, payload = self.frame()
        self.assertEqual((ftype, rid), (w.T_FILE, 1))
        offer = json.loads(payload.decode("utf-8"))
        # The file is offered by descriptor number (the front end checks it in /proc), never by path.
        self.assertEqual(sorted(offer), ["fd", "length", "offset"])
        self.assertEqual((offer["offset"], offer["length"]), (3, 7))
        held = os.open("/proc/%d/fd/%d" % (self.proc.pid, offer["fd"]), os.O_RDONLY)
        try:
            self.assertEqual((os.fstat(held).st_dev, os.fstat(held).st_ino), (st.st_dev, st.st_ino))
        finally:
            os.close(held)
        self.send(w.T_FILE_DONE, 1, 0, bytes((w.FILE_SENT,)))
        ftype, rid, flags, payload = self.frame()
        self.assertEqual((ftype, rid, flags, payload), (w.T_DATA, 1, w.F_END, b""))
        # Refused: the worker sends the file itself.
        self.send(w.T_REQUEST, 2, w.F_END, "\0".join(fields[:12] + ["r2"]).encode("latin-1"))
        self.assertEqual(self.frame()[0], w.T_RESPONSE)
        self.assertEqual(self.frame()[0], w.T_FILE)
        self.send(w.T_FILE_DONE, 2, 0, bytes((w.FILE_REFUSED,)))
        body = b""
        while True:
            ftype, rid, flags, payload = self.frame()
            self.assertEqual((ftype, rid), (w.T_DATA, 2))
            body += payload
            if flags & w.F_END:
                break
        self.assertEqual((body, flags), (b"3456789", w.F_END))

    def test_unreadable_or_irregular_files_are_never_offered(self):
        # An O_PATH descriptor (a process may hold one on a file it cannot read), a write-only one
        # and a FIFO are never offered: the worker iterates them itself, with its own rights.
        self.start("""
            import os
            class Fd(object):
                def __init__(self, fd):
                    self.fd = fd
                def fileno(self):
                    return self.fd
                def tell(self):
                    return 0
                def read(self, n):
                    return os.read(self.fd, n)
            def application(environ, start_response):
                path, how = environ["QUERY_STRING"].split("&")
                flags = {"opath": os.O_PATH, "wronly": os.O_WRONLY, "fifo": os.O_RDONLY | os.O_NONBLOCK}[how]
                start_response("200 OK", [])
                return environ["wsgi.file_wrapper"](Fd(os.open(path, flags)))
        """)
        data = os.path.join(self.tmp.name, "data.txt")
        with open(data, "wb") as f:
            f.write(b"0123456789")
        fifo = os.path.join(self.tmp.name, "fifo")
        os.mkfifo(fifo)
        for rid, (path, how) in enumerate([(data, "opath"), (data, "wronly"), (fifo, "fifo")], 1):
            fields = ["0", "GET", "", "/", path + "&" + how, "/", "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "r"]
            self.send(w.T_REQUEST, rid, w.F_END, "\0".join(fields).encode("latin-1"))
            logs = []
            types = []
            while True:
                ftype, got, flags, payload = self.frame(logs)
                self.assertEqual(got, rid)
                types.append(ftype)
                if flags & w.F_END:
                    break
            self.assertNotIn(w.T_FILE, types, how)

    def test_write_after_the_response_ended_is_an_error(self):
        self.start("""
            import threading
            saved = []
            class Body(object):
                def __iter__(self):
                    return iter([b"done"])
                def close(self):
                    saved[0](b"late")
            def application(environ, start_response):
                saved[:] = [start_response("200 OK", [])]
                return Body()
        """)
        self.request(1)
        logs = []
        frames = []
        while True:
            ftype, rid, flags, payload = self.frame(logs)
            frames.append((ftype, flags))
            if flags & w.F_END:
                break
        self.assertEqual(frames[-1], (w.T_DATA, w.F_END))
        self.request(2)  # the worker still serves, and sent nothing more for request 1
        ftype, rid, flags, payload = self.frame(logs)
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 2))
        self.assertIn("write() was called after the response ended", "\n".join(logs))

    def test_response_waits_for_credit(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return iter([b"x" * 40000, b"y" * 40000])
        """, window=50000)
        self.request(1)
        got = 0
        ftype, _, flags, payload = self.frame()
        self.assertEqual(ftype, w.T_RESPONSE)
        while got < 50000:
            ftype, _, flags, payload = self.frame()
            self.assertEqual(ftype, w.T_DATA)
            got += len(payload)
        self.assertEqual(got, 50000, "no more than the window before credit")
        self.sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            self.frame()
        self.sock.settimeout(20)
        self.send(w.T_CREDIT, 1, 0, struct.pack(">I", 100000))
        while True:
            ftype, _, flags, payload = self.frame()
            got += len(payload)
            if flags & w.F_END:
                break
        self.assertEqual(got, 80000)

    def test_request_body_and_credit_back(self):
        self.start("""
            def application(environ, start_response):
                data = environ["wsgi.input"].read()
                start_response("200 OK", [])
                return [str(len(data)).encode()]
        """, window=1000)
        self.request(3, method="POST", headers=[("Content-Length", "1500")], flags=0)
        self.send(w.T_DATA, 3, 0, b"a" * 1000)
        ftype, rid, _, payload = self.frame()
        self.assertEqual((ftype, rid), (w.T_CREDIT, 3), "the application consumed the window: credit is granted")
        self.send(w.T_DATA, 3, w.F_END, b"b" * 500)
        ftype, rid, flags, payload = self.frame()
        self.assertEqual(ftype, w.T_RESPONSE)
        self.assertTrue(payload.endswith(b"1500"))

    def test_large_bodies_arrive_whole_however_the_frames_are_cut(self):
        """Bodies in large DATA frames (read straight into their own bytes) and small ones, their
        headers and payloads split across writes, arrive byte for byte, and requests between them
        are still read."""
        self.start("""
            import hashlib
            def application(environ, start_response):
                stream = environ["wsgi.input"]
                digest = hashlib.sha256()
                size = 0
                while True:
                    block = stream.read(65536)
                    if not block:
                        break
                    assert type(block) is bytes
                    digest.update(block)
                    size += len(block)
                start_response("200 OK", [])
                return [("%d %s" % (size, digest.hexdigest())).encode()]
        """, window=256 * 1024)
        import hashlib
        import random
        import time
        rnd = random.Random(7)
        cases = [(3 << 20, 65536, None), (1 << 20, 128 * 1024, 3), (300000, 1000, None), (700000, 40000, 11)]
        for rid, (size, frame_size, cut) in enumerate(cases, 1):
            body = bytes(rnd.getrandbits(8) for _ in range(4096)) * (size // 4096) + b"z" * (size % 4096)
            self.request(rid, method="POST", headers=[("Content-Length", str(size))], flags=0)
            credit, off = 256 * 1024, 0
            while off < size:
                while credit <= 0:
                    ftype, got_rid, _, payload = self.frame()
                    self.assertEqual((ftype, got_rid), (w.T_CREDIT, rid))
                    credit += struct.unpack(">I", payload)[0]
                n = min(frame_size, size - off, credit)
                data = HEADER_PACK(n, rid, w.T_DATA, w.F_END if off + n == size else 0) + body[off:off + n]
                if cut is None:
                    self.sock.sendall(data)
                else:
                    for i in range(0, len(data), len(data) // cut + 1):  # header and payload cut apart
                        self.sock.sendall(data[i:i + len(data) // cut + 1])
                        time.sleep(0.0005)
                off += n
                credit -= n
            while True:
                ftype, got_rid, flags, payload = self.frame()
                if ftype != w.T_CREDIT:
                    break
            self.assertEqual((ftype, got_rid), (w.T_RESPONSE, rid))
            self.assertTrue(payload.endswith(("%d %s" % (size, hashlib.sha256(body).hexdigest())).encode()))
            while not flags & w.F_END:
                ftype, got_rid, flags, payload = self.frame()

    def test_cancel_stops_the_iterator(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                def endless():
                    while True:
                        yield b"z" * 1000
                return endless()
        """, window=4000)
        self.request(9)
        while True:
            ftype, _, flags, payload = self.frame()
            if ftype == w.T_DATA:
                break
        self.send(w.T_CANCEL, 9, 0)
        while True:
            ftype, rid, flags, payload = self.frame()
            if flags & w.F_END:
                break
        self.assertTrue(flags & w.F_ABORT)
        self.request(10)
        ftype, rid, flags, payload = self.frame()
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 10), "the thread is free again")

    def test_threads_serve_concurrently(self):
        self.start("""
            import threading
            barrier = threading.Barrier(3, timeout=10)
            def application(environ, start_response):
                barrier.wait()
                start_response("200 OK", [])
                return [b"together"]
        """, threads=3)
        for rid in (1, 2, 3):
            self.request(rid)
        done = set()
        while len(done) < 3:
            ftype, rid, flags, payload = self.frame()
            self.assertTrue(payload.endswith(b"together"))
            done.add(rid)
        self.assertEqual(done, {1, 2, 3})

    def test_shutdown_waits_for_busy_threads(self):
        """SHUTDOWN while one thread runs a request and the main thread is idle: the request
        completes before the process exits (the main thread must not return early)."""
        self.start("""
            import time
            def application(environ, start_response):
                time.sleep(0.5)
                start_response("200 OK", [])
                return [b"finished"]
        """, threads=2)
        self.request(1)
        import time
        time.sleep(0.1)
        self.send(w.T_SHUTDOWN, 0, 0)
        ftype, rid, flags, payload = self.frame()
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 1))
        self.assertTrue(payload.endswith(b"finished"))
        self.assertEqual(self.proc.wait(10), 0)
        self.proc = None

    def test_recall_only_before_start(self):
        self.start("""
            import time
            def application(environ, start_response):
                time.sleep(0.3)
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=1)
        self.request(1, path="/first")
        self.request(2, path="/second")
        import time
        time.sleep(0.1)
        self.send(w.T_RECALL, 1, 0)  # already running: completes normally
        self.send(w.T_RECALL, 2, 0)  # still waiting: handed back, never run
        seen = {}
        while len(seen) < 2:
            ftype, rid, flags, payload = self.frame()
            seen[rid] = (ftype, flags, payload)
        self.assertEqual(seen[1][0], w.T_RESPONSE)
        self.assertTrue(seen[1][2].endswith(b"/first"))
        self.assertEqual(seen[2][0], w.T_DATA)
        self.assertEqual(seen[2][1], w.F_END | w.F_ABORT | w.F_NOT_STARTED)


if __name__ == "__main__":
    unittest.main()
