"""One set of threads for every connection: a worker serves its primary connection and its extra
ones on `threads` threads in all (hub.py), never more at once; a connection added while the
primary is idle is read at once; the flow control of one connection never holds up another."""

import hashlib
import json
import signal
import statistics
import time
import unittest

import test_extra_connections as extra_tests
from harness import load

w = load().wire
U32 = w.U32
body_of = extra_tests.body_of
wait_exit = extra_tests.wait_exit


class SharedThreads(unittest.TestCase):
    start = extra_tests.ExtraConnections.start
    extra = extra_tests.ExtraConnections.extra
    tearDown = extra_tests.ExtraConnections.tearDown
    request = staticmethod(extra_tests.ExtraConnections.request)
    response = extra_tests.ExtraConnections.response
    any = staticmethod(extra_tests.ExtraConnections.any)

    THREADS_APP = """
        import json, threading
        def application(environ, start_response):
            names = sorted(t.name for t in threading.enumerate())
            start_response("200 OK", [])
            return [json.dumps({"names": names, "main": threading.current_thread() is threading.main_thread(),
                                "path": environ["PATH_INFO"]}).encode()]
    """

    def threads_seen(self, conn, rid, path):
        status, body = self.response_to(conn, rid, path)
        self.assertEqual(status, 200)
        seen = json.loads(body.decode())
        self.assertEqual(seen["path"], path)
        return seen

    def response_to(self, conn, rid, path="/", flags=w.F_END):
        self.request(conn, rid, path, flags)
        return self.response(conn, rid)

    def test_one_thread_serves_the_primary_and_three_extra_connections(self):
        self.start(self.THREADS_APP, threads=1)
        extras = [self.extra(), self.extra(), self.extra()]
        conns = [self.worker] + extras
        for i in range(12):
            conn = conns[i % 4]
            seen = self.threads_seen(conn, 100 + i, "/on-%d" % (i % 4))
            # The main thread serves everything: no serving thread was added for a connection.
            self.assertTrue(seen["main"])
            self.assertEqual(seen["names"].count("wsgi-host-worker"), 0, seen["names"])
            self.assertEqual(set(seen["names"]) - {"MainThread", "wsgi-host-worker", "wsgi-host-accept",
                                                   "wsgi-host-parent-watch"}, set(), seen["names"])

    def test_the_thread_count_stays_at_threads_with_extra_connections(self):
        self.start(self.THREADS_APP, threads=3)
        deadline = time.monotonic() + 10
        while True:  # the serving threads start while the first requests are served
            seen = self.threads_seen(self.worker, 1, "/starting")
            self.assertLessEqual(seen["names"].count("wsgi-host-worker"), 2, seen["names"])
            if seen["names"].count("wsgi-host-worker") == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        extras = [self.extra(), self.extra(), self.extra()]
        for i, conn in enumerate([self.worker] + extras + [self.worker]):
            seen = self.threads_seen(conn, 7, "/%d" % i)
            # `threads` serving threads: the main one and threads - 1 others, whatever the connections.
            self.assertEqual(seen["names"].count("wsgi-host-worker"), 2, seen["names"])

    def test_requests_of_every_connection_never_run_more_than_threads_at_once(self):
        self.start("""
            import threading, time
            lock = threading.Lock()
            now = [0]
            most = [0]
            def application(environ, start_response):
                if environ["PATH_INFO"] == "/most":
                    start_response("200 OK", [])
                    return [str(most[0]).encode()]
                with lock:
                    now[0] += 1
                    most[0] = max(most[0], now[0])
                try:
                    time.sleep(0.02)
                finally:
                    with lock:
                        now[0] -= 1
                start_response("200 OK", [])
                return [b"ok"]
        """, threads=2)
        conns = [self.worker, self.extra(), self.extra()]
        # More requests at once than threads, on every connection (the front end sends fewer).
        for rid in range(1, 5):
            for conn in conns:
                self.request(conn, rid)
        for conn in conns:
            answered = set()
            for _ in range(4):
                ftype, rid, flags, payload = self.any(conn, None)
                self.assertEqual((ftype, flags, body_of(payload)), (w.T_RESPONSE, w.F_END, b"ok"))
                answered.add(rid)
            self.assertEqual(answered, {1, 2, 3, 4})
        self.assertEqual(self.response_to(self.worker, 9, "/most"), (200, b"2"))

    def test_an_extra_connection_opened_while_the_primary_is_idle_is_served_at_once(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=1)
        self.assertEqual(self.response_to(self.worker, 1, "/primary"), (200, b"/primary"))
        waits = []
        for i in range(6):
            # The primary idle for a while (its only thread waits on it), or just answered.
            time.sleep(0.2 if i % 2 == 0 else 0)
            extra = self.extra()
            started = time.monotonic()
            self.assertEqual(self.response_to(extra, 1, "/extra"), (200, b"/extra"))
            waits.append(time.monotonic() - started)
            self.assertLess(waits[-1], 2.0, "an idle primary must not keep a new connection waiting")
            self.assertEqual(self.response_to(self.worker, 10 + i, "/primary"), (200, b"/primary"))
        self.assertLess(statistics.median(waits), 0.05, waits)
        self.assertEqual(self.response_to(self.worker, 2, "/primary"), (200, b"/primary"))

    def test_an_upload_on_an_extra_and_a_credit_limited_download_on_the_primary_both_progress(self):
        window = 1 << 16
        self.start("""
            import hashlib
            def application(environ, start_response):
                if environ["PATH_INFO"] == "/download":
                    start_response("200 OK", [])
                    return (bytes([i]) * 32768 for i in range(8))
                digest = hashlib.sha256()
                got = 0
                while True:
                    chunk = environ["wsgi.input"].read(10000)
                    if not chunk:
                        break
                    digest.update(chunk)
                    got += len(chunk)
                start_response("200 OK", [])
                return [("%d %s" % (got, digest.hexdigest())).encode()]
        """, threads=2)
        extra = self.extra()
        download = b"".join(bytes([i]) * 32768 for i in range(8))
        upload = bytes(range(256)) * 1024  # 256 KiB, 4 windows
        # 1. The download uses up its window and waits for credit (none is granted yet).
        self.request(self.worker, 1, "/download")
        ftype, rid, flags, payload = self.any(self.worker, None)
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 1))
        received = body_of(payload)
        while len(received) < window:
            ftype, rid, flags, payload = self.any(self.worker, None)
            self.assertEqual((ftype, rid, flags), (w.T_DATA, 1, 0))
            received += payload
        self.assertEqual(len(received), window)
        # 2. Meanwhile the upload on the extra connection goes: its first window, and credit back
        # as the application reads it.
        fields = ["0", "POST", "", "/upload", "", "/upload", "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "up",
                  "Content-Length", str(len(upload))]
        extra.send(w.T_REQUEST, 1, 0, "\0".join(fields).encode("latin-1"))
        sent = 0
        credit = window

        def push():
            nonlocal sent, credit
            while credit and sent < len(upload):
                n = min(credit, 16384, len(upload) - sent)
                extra.send(w.T_DATA, 1, w.F_END if sent + n == len(upload) else 0, upload[sent:sent + n])
                sent += n
                credit -= n

        push()
        ftype, rid, flags, payload = self.any(extra, None)
        self.assertEqual((ftype, rid), (w.T_CREDIT, 1), "the upload progresses while the download waits")
        credit += U32.unpack(payload)[0]
        # 3. The download gets its credit and ends, while the upload waits for more body.
        self.worker.send(w.T_CREDIT, 1, 0, U32.pack(len(download)))
        while True:
            ftype, rid, flags, payload = self.any(self.worker, None)
            self.assertEqual((ftype, rid), (w.T_DATA, 1))
            self.assertFalse(flags & w.F_ABORT)
            received += payload
            if flags & w.F_END:
                break
        self.assertEqual(received, download)
        # 4. The rest of the upload.
        while True:
            push()
            ftype, rid, flags, payload = self.any(extra, None)
            if ftype != w.T_CREDIT:
                break
            credit += U32.unpack(payload)[0]
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 1))
        self.assertEqual(body_of(payload).decode(), "%d %s" % (len(upload), hashlib.sha256(upload).hexdigest()))
        self.assertEqual(sent, len(upload))

    def test_data_frames_arriving_slower_than_the_idle_gate_are_read_whole_on_the_primary(self):
        self.start("""
            import hashlib
            def application(environ, start_response):
                body = environ["wsgi.input"].read()
                start_response("200 OK", [])
                return [("%d %s" % (len(body), hashlib.sha256(body).hexdigest())).encode()]
        """, threads=1)
        first, second = bytes(range(256)) * 128, bytes(reversed(range(256))) * 128  # 32 KiB each: bulk
        fields = ["0", "POST", "", "/", "", "/", "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "up",
                  "Content-Length", str(len(first) + len(second))]
        sock = self.worker.sock
        self.worker.send(w.T_REQUEST, 1, 0, "\0".join(fields).encode("latin-1"))
        # Pauses longer than the primary's receive timeout inside a frame's header and payload.
        frame = w.HEADER.pack(len(first), 1, w.T_DATA, 0) + first
        for part in (frame[:4], frame[4:5000], frame[5000:]):
            sock.sendall(part)
            time.sleep(0.1)
        frame = w.HEADER.pack(len(second), 1, w.T_DATA, w.F_END) + second
        for part in (frame[:1000], frame[1000:]):
            sock.sendall(part)
            time.sleep(0.1)
        body = first + second
        while True:
            ftype, rid, flags, payload = self.any(self.worker, None)
            if ftype != w.T_CREDIT:  # granted as the application reads
                break
        self.assertEqual((ftype, rid, flags), (w.T_RESPONSE, 1, w.F_END))
        self.assertEqual(body_of(payload).decode(), "%d %s" % (len(body), hashlib.sha256(body).hexdigest()))
        self.assertIsNone(self.proc.poll())

    WAITING_APP = """
        seen = []
        def application(environ, start_response):
            path = environ["PATH_INFO"]
            if path == "/seen":
                start_response("200 OK", [])
                return [" ".join(seen).encode()]
            try:
                if path == "/upload":
                    while environ["wsgi.input"].read(65536):
                        pass
                    start_response("200 OK", [])
                    return [b"read"]
                write = start_response("200 OK", [])
                for i in range(64):
                    write(b"x" * 65536)  # waits for credit once the window is used up
                return []
            except BaseException as e:
                seen.append("%s:%s" % (path, type(e).__name__))
                raise
    """

    def test_end_of_file_on_an_extra_while_its_request_waits_for_body_ends_that_request_only(self):
        self.start(self.WAITING_APP, threads=1)
        extra = self.extra()
        fields = ["0", "POST", "", "/upload", "", "/upload", "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "up",
                  "Content-Length", "1000000"]
        extra.send(w.T_REQUEST, 1, 0, "\0".join(fields).encode("latin-1"))
        extra.send(w.T_DATA, 1, 0, b"y" * 1000)
        time.sleep(0.2)  # the only thread waits for more of the body
        extra.sock.close()
        # That request ends: the process's only thread serves the primary again.
        self.assertEqual(self.response_to(self.worker, 1, "/seen"), (200, b"/upload:ConnectionLost"))
        self.assertIsNone(self.proc.poll())
        again = self.extra()
        self.assertEqual(self.response_to(again, 1, "/seen"), (200, b"/upload:ConnectionLost"))

    def test_end_of_file_on_an_extra_while_its_response_waits_for_credit_ends_that_request_only(self):
        self.start(self.WAITING_APP, threads=1)
        extra = self.extra()
        self.request(extra, 1, "/download")
        ftype, rid, _, _ = self.any(extra, None)
        self.assertEqual((ftype, rid), (w.T_RESPONSE, 1))
        time.sleep(0.2)  # the window used up: the only thread waits for credit
        extra.sock.close()
        deadline = time.monotonic() + 10
        while True:
            status, body = self.response_to(self.worker, 1, "/seen")
            if body or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual((status, body), (200, b"/download:ConnectionLost"))
        self.worker.send(w.T_SHUTDOWN, 0, 0)
        self.assertEqual(wait_exit(self.proc, 10), 0)
        self.proc = None

    def test_recall_and_cancel_reach_the_request_of_their_own_connection(self):
        self.start("""
            import time
            def application(environ, start_response):
                if environ["PATH_INFO"] == "/slow":
                    time.sleep(0.3)
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=1)
        extra = self.extra()
        self.request(self.worker, 1, "/slow")  # the only thread runs it
        time.sleep(0.1)
        self.request(extra, 1, "/recalled")  # the same ids, waiting behind it
        self.request(extra, 2, "/cancelled")
        self.request(self.worker, 2, "/kept")
        extra.send(w.T_RECALL, 1, 0)
        extra.send(w.T_CANCEL, 2, 0)
        self.assertEqual(self.response(self.worker, 1), (200, b"/slow"))
        self.assertEqual(self.response(self.worker, 2), (200, b"/kept"))
        seen = {}
        for _ in range(2):
            ftype, rid, flags, payload = self.any(extra, None)
            self.assertEqual(ftype, w.T_DATA)
            seen[rid] = flags
        self.assertEqual(seen, {1: w.F_END | w.F_ABORT | w.F_NOT_STARTED, 2: w.F_END | w.F_ABORT})

    def test_sigterm_drains_every_connection(self):
        self.start("""
            import time
            def application(environ, start_response):
                time.sleep(0.3)
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=2)
        extra = self.extra()
        self.request(extra, 1, "/extra")
        self.request(self.worker, 1, "/primary")
        time.sleep(0.1)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.response(extra, 1), (200, b"/extra"))
        self.assertEqual(self.response(self.worker, 1), (200, b"/primary"))
        self.assertEqual(wait_exit(self.proc, 10), 0, "drained: the worker exits")
        self.proc = None


if __name__ == "__main__":
    unittest.main()
