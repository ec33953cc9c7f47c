"""Tests of the worker program on its own: units, and the protocol over a real socketpair."""

import importlib.util
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import types
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(os.path.dirname(HERE), "wsgi_host_worker", "wsgi.py")

spec = importlib.util.spec_from_file_location("wsgi_host_worker", WORKER)
w = importlib.util.module_from_spec(spec)
spec.loader.exec_module(w)

BOOT = "\n".join([
    "import os, sys",
    "os.dup2(9, 3); os.close(9)",
    "if sys.path and sys.path[0] == '': del sys.path[0]",
    "_wsgi_host_args = sys.argv[2:]",
    "__file__ = sys.argv[1]",
    "sys.argv[:] = ['wsgi-host']",
    "exec(compile(open(__file__, 'rb').read(), __file__, 'exec'))",
])


class HeaderKeys(unittest.TestCase):
    def test_cgi_names(self):
        self.assertEqual(w._header_key("User-Agent"), "HTTP_USER_AGENT")
        self.assertEqual(w._header_key("content-type"), "CONTENT_TYPE")
        self.assertEqual(w._header_key("Content-Length"), "CONTENT_LENGTH")

    def test_underscores_are_dropped(self):
        self.assertEqual(w._header_key("X_Forwarded_For"), "")


class EncodeHead(unittest.TestCase):
    def test_valid(self):
        status, head = w._encode_head("404 Not Found", [("A", "b"), ("C", "d")], None)
        self.assertEqual(status, 404)
        self.assertEqual(head, b"Not Found\0A\0b\0C\0d")

    def test_errors(self):
        bad = [
            (b"200 OK", []),
            ("200", []),
            ("OK 200", []),
            ("200 OK", ("A", "b")),
            ("200 OK", [("A",)]),
            ("200 OK", [("A", 1)]),
            ("200 OK", [("A", "b\0Set-Cookie\0x")]),
            ("200 OK", [("A", "\u20ac")]),
        ]
        for status, headers in bad:
            with self.assertRaises(w.AppError, msg=repr((status, headers))):
                w._encode_head(status, headers, None)


class FakeConn(object):
    def __init__(self, chunks):
        self.chunks = list(chunks)

    def next_body_chunk(self, req, cond):
        return self.chunks.pop(0) if self.chunks else b""


def make_input(*chunks):
    return w.Input(FakeConn(chunks), None, None)


class InputStream(unittest.TestCase):
    def test_read_sizes_across_chunks(self):
        i = make_input(b"abc", b"defg", b"h")
        self.assertEqual(i.read(2), b"ab")
        self.assertEqual(i.read(4), b"cdef")
        self.assertEqual(i.read(), b"gh")
        self.assertEqual(i.read(10), b"")

    def test_readline(self):
        i = make_input(b"one\ntw", b"o\nthree")
        self.assertEqual(i.readline(), b"one\n")
        self.assertEqual(i.readline(2), b"tw")
        self.assertEqual(i.readline(), b"o\n")
        self.assertEqual(i.readline(), b"three")
        self.assertEqual(i.readline(), b"")

    def test_readlines_and_iteration(self):
        self.assertEqual(make_input(b"a\nb\n", b"c").readlines(), [b"a\n", b"b\n", b"c"])
        # As io.IOBase.readlines: stop once the lines read reach the hint.
        self.assertEqual(make_input(b"a\nb\n", b"c").readlines(2), [b"a\n"])
        self.assertEqual(make_input(b"a\nb\n", b"c").readlines(3), [b"a\n", b"b\n"])
        self.assertEqual(list(make_input(b"x\ny")), [b"x\n", b"y"])


class PythonPath(unittest.TestCase):
    def test_addsitedir_semantics_and_order(self):
        saved = list(sys.path)
        try:
            with tempfile.TemporaryDirectory() as d:
                a = os.path.join(d, "a")
                deep = os.path.join(d, "deep")
                os.mkdir(a)
                os.mkdir(deep)
                with open(os.path.join(a, "x.pth"), "w") as f:
                    f.write(deep + "\n")
                w.add_python_path([a])
                self.assertEqual(sys.path[:2], [a, deep])
        finally:
            sys.path[:] = saved


class LoadApplication(unittest.TestCase):
    def test_script_file_as_mod_wsgi_loads_it(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "site.wsgi")
            with open(path, "w") as f:
                f.write("FILE = __file__\ndef app(e, s):\n    return []\n")
            func = w.load_application({"kind": "script", "target": path, "callable": "app"})
            self.assertTrue(callable(func))
            self.assertEqual(func.__globals__["FILE"], path)
            self.assertTrue(func.__module__.startswith("_mod_wsgi_"))

    def test_missing_callable_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "site.wsgi")
            with open(path, "w") as f:
                f.write("x = 1\n")
            with self.assertRaises(LookupError) as ctx:
                w.load_application({"kind": "script", "target": path, "callable": "application"})
            self.assertIn("no callable named 'application'", str(ctx.exception))

    def test_module_factory_call(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "factory_mod.py"), "w") as f:
                f.write("def make(a, b=2):\n    def app(e, s):\n        return [str(a + b).encode()]\n    return app\n")
            sys.path.insert(0, d)
            try:
                func = w.load_application({"kind": "module", "target": "factory_mod:make(40, b=2)", "callable": "application"})
                self.assertEqual(func({}, None), [b"42"])
            finally:
                sys.path.remove(d)


class LoadFailures(unittest.TestCase):
    def test_traceback_starts_at_the_application(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "broken.wsgi")
            with open(path, "w") as f:
                f.write("import not_a_module_anywhere_xyz\n")
            try:
                w.load_application({"kind": "script", "target": path, "callable": "application"})
            except ImportError as e:
                # As in the worker: the traceback starts in the worker's own frames.
                text = w.app_traceback(e.with_traceback(e.__traceback__.tb_next))
            files = [line.split('"')[1] for line in text.splitlines() if line.strip().startswith("File ")]
            self.assertEqual(files, [path])
            self.assertIn("No module named 'not_a_module_anywhere_xyz'", text)

    def test_an_error_of_the_worker_itself_has_no_frames(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "site.wsgi")
            with open(path, "w") as f:
                f.write("x = 1\n")
            try:
                w.load_application({"kind": "script", "target": path, "callable": "application"})
            except LookupError as e:
                text = w.app_traceback(e.with_traceback(e.__traceback__.tb_next))
            self.assertNotIn("Traceback", text)
            self.assertIn("no callable named 'application'", text)

    def test_a_missing_module_that_is_a_folder_next_to_the_script(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "mysite"))
            script = os.path.join(d, "mysite", "wsgi.py")
            with open(script, "w") as f:
                f.write("import mysite.settings\n")
            err = ModuleNotFoundError("No module named 'mysite'", name="mysite")
            self.assertEqual(w.missing_module_folder(err, [{"kind": "script", "target": script}]), {"name": "mysite", "folder": d})
            self.assertIsNone(w.missing_module_folder(ModuleNotFoundError("x", name="elsewhere"), [{"kind": "script", "target": script}]))
            self.assertIsNone(w.missing_module_folder(ValueError("x"), []))


class SourceHashes(unittest.TestCase):
    def test_cached_bytecode_is_checked_by_source_hash(self):
        import importlib.util
        if sys.dont_write_bytecode:
            self.skipTest("PYTHONDONTWRITEBYTECODE is set: nothing is cached")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "helper_for_hashes.py")
            with open(src, "w") as f:
                f.write('WORD = "before"\n')
            w.use_source_hashes([src])
            with open(importlib.util.cache_from_source(src), "rb") as f:
                flags = int.from_bytes(f.read(8)[4:8], "little")
            self.assertEqual(flags & 0b11, 0b11, "hash-based, checked against the source")


class LogLevels(unittest.TestCase):
    def test_a_logging_handler_writing_to_wsgi_errors_keeps_the_record_level(self):
        import logging
        conn = FakeConn([])
        worker = types.SimpleNamespace(conn=conn)
        sent = []
        conn.log = lambda level, rid, text: sent.append((level, text))
        saved = (logging.Handler.handle, logging.StreamHandler.emit, logging.lastResort)
        try:
            w.install_logging_bridge(worker)
            errors = w.ErrorStream(w.LogWriter(conn, w.LOG_ERROR, 2, "<stderr>"))

            class ToErrors(logging.Handler):
                def emit(self, record):
                    errors.write(self.format(record) + "\n")

            log = logging.getLogger("wsgi-host-test-radicale")
            log.propagate = False
            log.setLevel(logging.DEBUG)
            handler = ToErrors()
            log.addHandler(handler)
            try:
                log.info("an info line")
                errors.write("a plain write\n")
            finally:
                log.removeHandler(handler)
            self.assertEqual(sent, [(logging.INFO, "an info line"), (w.LOG_ERROR, "a plain write")])
        finally:
            logging.Handler.handle, logging.StreamHandler.emit, logging.lastResort = saved


HEADER = struct.Struct(">IIBB")


class Protocol(unittest.TestCase):
    """The worker program over a real socketpair, as the front end drives it."""

    def start(self, app_source, threads=1, window=1 << 16):
        self.tmp = tempfile.TemporaryDirectory()
        path = os.path.join(self.tmp.name, "app.wsgi")
        with open(path, "w") as f:
            f.write(textwrap.dedent(app_source))
        front, back = socket.socketpair()
        os.dup2(back.fileno(), 9, inheritable=True)
        self.proc = subprocess.Popen([sys.executable, "-c", BOOT, WORKER], pass_fds=(9,), stdin=subprocess.PIPE,
                                     env=dict(os.environ, WSGI_HOST_WATCH_STDIN="1"))
        os.close(9)
        back.close()
        self.sock = front
        self.sock.settimeout(20)
        self.buf = b""
        init = {"group": "g", "applicationGroup": "%{GLOBAL}", "threads": threads, "multiprocess": False,
                "apps": [{"kind": "script", "target": path, "callable": "application"}], "pythonPath": [],
                "requestWindow": window, "responseWindow": window, "spinBudget": 0, "environ": {}}
        self.send(w.T_INIT, 0, 0, json.dumps(init).encode())
        ftype, _, _, payload = self.frame()
        self.assertEqual(ftype, w.T_READY, payload)

    def tearDown(self):
        if getattr(self, "sock", None) is not None and getattr(self, "proc", None) is None:
            self.sock.close()
            self.tmp.cleanup()
        if getattr(self, "proc", None):
            self.proc.stdin.close()  # the front end "goes away": the worker must exit
            self.assertEqual(self.proc.wait(10), 0)
            self.sock.close()
            self.tmp.cleanup()

    def send(self, ftype, rid, flags, payload=b""):
        self.sock.sendall(HEADER.pack(len(payload), rid, ftype, flags) + payload)

    def frame(self, logs=None):
        """The next frame; LOG frames are skipped (their texts appended to logs when given)."""
        while True:
            if len(self.buf) >= 10:
                length, rid, ftype, flags = HEADER.unpack_from(self.buf)
                if len(self.buf) >= 10 + length:
                    payload = self.buf[10:10 + length]
                    self.buf = self.buf[10 + length:]
                    if ftype == w.T_LOG:
                        if logs is not None:
                            logs.append(payload[1:].decode("utf-8"))
                        continue
                    return ftype, rid, flags, payload
            data = self.sock.recv(1 << 16)
            if not data:
                raise EOFError("worker closed the connection")
            self.buf += data

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
        status, head_len = w.RESPONSE_PREFIX.unpack_from(payload)
        head = payload[6:6 + head_len].decode("latin-1").split("\0")
        self.assertEqual(status, 200)
        self.assertEqual(head, ["OK", "X-Path", "/p", "Content-Length", "5"])
        self.assertEqual(payload[6 + head_len:], b"hello")

    def head_of(self, payload):
        status, head_len = w.RESPONSE_PREFIX.unpack_from(payload)
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
