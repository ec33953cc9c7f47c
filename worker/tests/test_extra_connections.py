"""Extra connections: a worker started with WSGI_HOST_SOCKET accepts more connections from its
parent after READY (one per front-end event loop), each carrying its own requests (docs/protocol.md,
"Extra connections"). This test process is the worker's parent, so its connections pass the
SO_PEERCRED check."""

import json
import os
import subprocess
import sys
import textwrap
import time
import unittest

from harness import WorkerProcess, load

w = load().wire
RESPONSE_PREFIX = w.RESPONSE_PREFIX


def body_of(payload):
    _, head_len = RESPONSE_PREFIX.unpack_from(payload)
    return payload[6 + head_len:]


def wait_exit(proc, seconds):
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return None


class ExtraConnections(unittest.TestCase):
    def start(self, app_source, threads=1, bound=False):
        """A worker over its socket path; READY read; the frames before it kept (self.early)."""
        self.worker = WorkerProcess(via_socket_path=True, bound=bound)
        self.proc = self.worker.proc
        self.extras = []
        path = os.path.join(self.worker.tmp.name, "app.wsgi")
        with open(path, "w") as f:
            f.write(textwrap.dedent(app_source))
        init = {"group": "g", "applicationGroup": "%{GLOBAL}", "threads": threads, "multiprocess": False,
                "apps": [{"kind": "script", "target": path, "callable": "application"}], "pythonPath": [],
                "requestWindow": 1 << 16, "responseWindow": 1 << 16, "spinBudget": 0, "environ": {}}
        self.worker.send(w.T_INIT, 0, 0, json.dumps(init).encode())
        self.early = []
        while True:
            frame = self.worker.any_frame()
            if frame[0] == w.T_READY:
                break
            self.early.append(frame)

    def extra(self):
        conn = self.worker.connect_extra()
        self.extras.append(conn)
        return conn

    def tearDown(self):
        worker = getattr(self, "worker", None)
        if worker is None:
            return
        for conn in self.extras:
            conn.sock.close()
        status = worker.close()  # stdin closed: the worker must exit even if a test left it serving
        if self.proc is not None:
            self.assertEqual(status, 0)

    @staticmethod
    def request(conn, rid, path="/", flags=w.F_END):
        fields = ["0", "GET", "", path, "", path, "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "rid%d" % rid]
        conn.send(w.T_REQUEST, rid, flags, "\0".join(fields).encode("latin-1"))

    def response(self, conn, rid, logs=None):
        """The whole response of request rid on conn: its status and body (LOG texts of rid to logs)."""
        ftype, got, flags, payload = self.any(conn, logs)
        self.assertEqual((ftype, got), (w.T_RESPONSE, rid))
        status = RESPONSE_PREFIX.unpack_from(payload)[0]
        body = body_of(payload)
        while not flags & w.F_END:
            ftype, got, flags, payload = self.any(conn, logs)
            self.assertEqual((ftype, got), (w.T_DATA, rid))
            self.assertFalse(flags & w.F_ABORT)
            body += payload
        return status, body

    @staticmethod
    def any(conn, logs):
        while True:
            frame = conn.any_frame()
            if frame[0] != w.T_LOG:
                return frame
            if logs is not None:
                logs.append((frame[1], frame[3][1:].decode("utf-8")))

    def test_the_same_request_id_on_two_connections_at_once(self):
        self.start("""
            import threading
            both = threading.Barrier(2, timeout=10)
            def application(environ, start_response):
                both.wait()  # each connection's request runs while the other's does
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=2)  # the process's two threads serve both connections
        self.assertTrue(os.path.exists(self.worker.path), "the socket path stays for extra connections")
        extra = self.extra()
        self.request(self.worker, 1, "/primary")
        self.request(extra, 1, "/extra")
        self.assertEqual(self.response(extra, 1), (200, b"/extra"))
        self.assertEqual(self.response(self.worker, 1), (200, b"/primary"))
        # Both go on serving.
        self.request(extra, 2, "/extra-again")
        self.request(self.worker, 2, "/primary-again")
        self.assertEqual(self.response(extra, 2), (200, b"/extra-again"))
        self.assertEqual(self.response(self.worker, 2), (200, b"/primary-again"))

    def test_a_listener_handed_over_bound_serves_the_primary_and_extra_connections(self):
        # A user= group's launcher binds the socket as root and passes the descriptor: the worker
        # uses it as it is (binding the path again would fail: it exists), and keeps it, and the
        # variable naming it, from the application and its child processes.
        self.start("""
            import json, os
            def application(environ, start_response):
                inheritable = []
                for fd in os.listdir("/proc/self/fd"):
                    if int(fd) < 3:
                        continue  # stdin, stdout, stderr: sockets when the test runner's are
                    try:
                        if os.readlink("/proc/self/fd/" + fd).startswith("socket:") and os.get_inheritable(int(fd)):
                            inheritable.append(fd)
                    except OSError:
                        pass
                start_response("200 OK", [])
                return [json.dumps([inheritable, "WSGI_HOST_SOCKET_FD" in os.environ]).encode()]
        """, threads=2, bound=True)
        extra = self.extra()
        self.request(self.worker, 1, "/")
        self.assertEqual(self.response(self.worker, 1), (200, b'[[], false]'))
        self.request(extra, 1, "/")
        self.assertEqual(self.response(extra, 1), (200, b'[[], false]'))

    def test_a_requests_log_goes_on_its_own_connection(self):
        self.start("""
            import sys
            print("loading")
            def application(environ, start_response):
                print("printed " + environ["PATH_INFO"])
                sys.stderr.write("error line " + environ["PATH_INFO"] + "\\n")
                environ["wsgi.errors"].write("wsgi.errors " + environ["PATH_INFO"] + "\\n")
                start_response("200 OK", [])
                return [b"ok"]
        """, threads=2)
        self.assertIn((w.T_LOG, 0, "loading"), [(f[0], f[1], f[3][1:].decode()) for f in self.early])
        extra = self.extra()
        extra_logs, primary_logs = [], []
        self.request(extra, 5, "/x")
        self.assertEqual(self.response(extra, 5, extra_logs), (200, b"ok"))
        self.assertEqual(sorted(extra_logs), [(5, "error line /x"), (5, "printed /x"), (5, "wsgi.errors /x")])
        self.request(self.worker, 5, "/p")
        self.assertEqual(self.response(self.worker, 5, primary_logs), (200, b"ok"))
        # Nothing of the extra connection's request went on the primary (it would have come first).
        self.assertEqual(sorted(primary_logs), [(5, "error line /p"), (5, "printed /p"), (5, "wsgi.errors /p")])

    def test_end_of_file_on_an_extra_connection_leaves_the_process_serving(self):
        self.start("""
            import time
            def application(environ, start_response):
                if environ["PATH_INFO"] == "/slow":
                    time.sleep(0.3)
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=2)
        extra = self.extra()
        self.request(extra, 1, "/fast")
        self.assertEqual(self.response(extra, 1), (200, b"/fast"))
        self.request(extra, 2, "/slow")
        time.sleep(0.1)
        extra.sock.close()  # while its request runs: that request's sends fail quietly
        time.sleep(0.4)
        self.assertIsNone(self.proc.poll(), "the process still runs")
        for rid in (1, 2, 3):
            self.request(self.worker, rid, "/after")
            self.assertEqual(self.response(self.worker, rid), (200, b"/after"))
        again = self.extra()
        self.request(again, 1, "/again")
        self.assertEqual(self.response(again, 1), (200, b"/again"))

    def test_end_of_file_on_the_primary_ends_the_process(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]
        """)
        extra = self.extra()
        self.request(extra, 1)
        self.assertEqual(self.response(extra, 1), (200, b"ok"))
        self.worker.sock.close()  # stdin stays open: only the primary connection ends
        self.assertEqual(wait_exit(self.proc, 10), 0, "the worker exits when its primary connection ends")
        with self.assertRaises(EOFError):
            extra.any_frame()
        self.proc = None

    def test_end_of_file_on_a_drained_primary_still_ends_the_process(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]
        """, threads=2)
        extra = self.extra()
        self.worker.send(w.T_SHUTDOWN, 0, 0)
        self.request(extra, 1)
        self.assertEqual(self.response(extra, 1), (200, b"ok"))
        self.assertIsNone(self.proc.poll())
        self.worker.sock.close()
        self.assertEqual(wait_exit(self.proc, 10), 0, "the front end went away: the worker exits")
        self.proc = None

    def test_shutdown_on_the_primary_waits_for_the_extra_connections(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """, threads=2)
        extra = self.extra()
        self.request(extra, 1, "/before")
        self.assertEqual(self.response(extra, 1), (200, b"/before"))
        self.worker.send(w.T_SHUTDOWN, 0, 0)
        self.assertIsNone(wait_exit(self.proc, 0.5), "the extra connection is still open and not shut down")
        self.request(extra, 2, "/during")
        self.assertEqual(self.response(extra, 2), (200, b"/during"))
        self.request(extra, 3, "/last")
        extra.send(w.T_SHUTDOWN, 0, 0)  # after a request: that request is served first
        self.assertEqual(self.response(extra, 3), (200, b"/last"))
        self.assertEqual(wait_exit(self.proc, 10), 0, "every connection got SHUTDOWN and drained")
        self.proc = None

    def test_shutdown_on_an_extra_connection_alone_ends_only_that_connection(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [environ["PATH_INFO"].encode()]
        """)
        extra = self.extra()
        self.request(extra, 1, "/x")
        extra.send(w.T_SHUTDOWN, 0, 0)
        self.assertEqual(self.response(extra, 1), (200, b"/x"))
        with self.assertRaises(EOFError):
            extra.any_frame()  # drained: the worker closes it
        self.assertIsNone(self.proc.poll())
        self.request(self.worker, 1, "/p")
        self.assertEqual(self.response(self.worker, 1), (200, b"/p"))
        self.worker.send(w.T_SHUTDOWN, 0, 0)
        self.assertEqual(wait_exit(self.proc, 10), 0)
        self.proc = None

    def test_an_extra_connection_closed_while_shutting_down_counts_as_done(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]
        """)
        extra = self.extra()
        self.request(extra, 1)
        self.assertEqual(self.response(extra, 1), (200, b"ok"))
        self.worker.send(w.T_SHUTDOWN, 0, 0)
        self.assertIsNone(wait_exit(self.proc, 0.3))
        extra.sock.close()
        self.assertEqual(wait_exit(self.proc, 10), 0)
        self.proc = None

    def test_a_connection_from_another_process_is_refused(self):
        self.start("""
            def application(environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]
        """)
        # A child of this process (not the worker's parent) connects and sends a request.
        child = textwrap.dedent("""
            import socket, struct, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            s.settimeout(10)
            head = b"0\\0GET\\0\\0/\\0\\0/\\0HTTP/1.1\\0127.0.0.1\\0001\\0h\\00080\\0http\\0x"
            try:
                s.sendall(struct.pack(">IIBB", len(head), 1, 2, 1) + head)
                got = s.recv(100)
            except ConnectionError:
                got = b""
            sys.stdout.write("closed" if got == b"" else "answered %r" % (got,))
        """)
        out = subprocess.run([sys.executable, "-c", child, self.worker.path], stdout=subprocess.PIPE,
                             timeout=20).stdout.decode()
        self.assertEqual(out, "closed", "the worker closes a connection whose peer is not its parent")
        extra = self.extra()
        self.request(extra, 1)
        self.assertEqual(self.response(extra, 1), (200, b"ok"))
        self.request(self.worker, 1)
        self.assertEqual(self.response(self.worker, 1), (200, b"ok"))


if __name__ == "__main__":
    unittest.main()
