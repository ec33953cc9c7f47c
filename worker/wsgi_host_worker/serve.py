"""The serve loop: a group's applications, the threads that take requests off the connections, and
one request's run through its application (handle).

design: `threads` threads (the main one included) each loop on Hub.next_request and run the
request they get, from whichever connection it came, to its end; there is no queue of our own (the
front end schedules, and bounds a process's requests across its connections to `threads` running).
Extra connections (extra.py) get no threads of their own: the same threads serve every connection
(more threads with work at once would only fight over the GIL). The request path (next_request,
handle, environ.build_environ, wsgi.Response, channel.Channel) does no work that could be done once
per process: module globals it uses in loops are bound locally.
"""

import atexit
import json
import os
import sys
import threading

from .channel import ClientDisconnected
from .connection import ConnectionLost
from .environ import ThreadState, base_environ, build_environ
from .input import Input
from .loader import app_traceback, load_application, own_file, use_source_hashes
from .logs import LogWriter, serving
from .wire import LOG_ERROR, LOG_INFO, T_MODULES
from .wsgi import AppError, ErrorStream, FileWrapper, Response

_get_ident = threading.get_ident


class App(object):
    __slots__ = ("target", "callable", "base_environ")

    def __init__(self, target, func, base_environ):
        self.target = target
        self.callable = func
        self.base_environ = base_environ


_leaving = threading.Lock()


def shutdown_now(status):
    """Leave without waiting for application threads: flush logs, run atexit hooks, exit. Once:
    a second caller (another thread finishing at the same moment) waits for the first."""
    if not _leaving.acquire(False):
        while True:
            threading.Event().wait(60)
    try:
        atexit._run_exitfuncs()
    except Exception:
        pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os._exit(status)


class Worker(object):
    def __init__(self, conn, config, listener=None):
        self.conn = conn  # the primary connection: INIT came on it; READY, MODULES, LOG id 0 go on it
        self.hub = conn.hub  # every connection's requests, lock and reader (hub.py)
        self.listener = listener  # where extra connections arrive (None: a socketpair, no extras)
        self.config = config
        self.apps = []
        self.apps_by_index = {}  # the REQUEST head's first field ("0", "1"...) -> App
        self.header_keys = {}
        self.stderr = LogWriter(conn, LOG_ERROR, 2, "<stderr>")
        self.stdout = LogWriter(conn, LOG_INFO, 1, "<stdout>")
        self.errors = ErrorStream(self.stderr)
        self.threads = max(1, int(config.get("threads", 1)))
        self.watch_modules = bool(config.get("reloadOnChanges"))
        self.known_modules = 0
        self.hashed_pycs = set()

    # -- loading ------------------------------------------------------------------------------

    def load(self):
        cfg = self.config
        for spec in cfg["apps"]:
            func = load_application(spec)
            base = base_environ(cfg, spec, self.threads, self.errors, FileWrapper)
            self.apps_by_index[str(len(self.apps))] = app = App(spec["target"], func, base)
            self.apps.append(app)

    def report_modules(self):
        """--reload-on-changes: tell the front end which source files the application loaded
        (outside the interpreter's own library, and not this package's), so it can restart the
        group when one changes."""
        roots = tuple(set(os.path.join(p, "") for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)))
        files = []
        for m in list(sys.modules.values()):
            f = getattr(m, "__file__", None)
            if isinstance(f, str) and f.endswith(".py") and not f.startswith(roots) and not own_file(f):
                files.append(os.path.abspath(f))
        self.known_modules = len(sys.modules)
        files = sorted(set(files))
        fresh = [f for f in files if f not in self.hashed_pycs]
        self.hashed_pycs.update(fresh)
        use_source_hashes(fresh)
        self.conn.frame(T_MODULES, 0, 0, json.dumps(files).encode("utf-8"))

    # -- serving ------------------------------------------------------------------------------

    def serve(self):
        """Serve every connection (the primary, and the extra ones extra.py adds to the hub) on
        `threads` threads, this one included."""
        for _ in range(self.threads - 1):
            t = threading.Thread(target=self._thread_main, name="wsgi-host-worker", daemon=True)
            t.start()
        self._thread_main()

    def all_done(self):
        """The process may exit: the primary connection got SHUTDOWN, and every connection still
        open got SHUTDOWN and has no request left (a closed extra connection counts as done)."""
        with self.hub.lock:
            return self.hub.all_done()

    def terminate(self):
        """SIGTERM (in the signal handler, so no locks): every connection drains as on SHUTDOWN;
        exit now if no request is left anywhere."""
        if not self.hub.terminate():
            shutdown_now(0)

    def _thread_main(self):
        hub = self.hub
        cond = threading.Condition(hub.lock)
        state = ThreadState()
        handle = self.handle
        primary = self.conn
        while True:
            ch = None
            try:
                while True:
                    ch = hub.next_request(cond)
                    if ch is None:
                        break
                    handle(ch, state)
                break
            except ConnectionLost:
                if hub.lost or ch is None or ch.conn is primary:
                    os._exit(0)  # the front end went away
                with hub.lock:
                    hub.end(ch.conn)  # an extra connection failed under its request: it alone ends
        # Every connection drained: the process exits (any thread; the main one never returns).
        shutdown_now(0)

    def handle(self, ch, thread=None):
        """Run one request (its Channel) through its application. thread: the serving thread's
        ThreadState (mod_wsgi's per-thread counters)."""
        conn = ch.conn
        if ch.cancelled or ch.recalled:
            # Cancelled, or recalled by the front end to run elsewhere, before it started: never run it.
            ch.decline()
            conn.done(ch)
            return
        ident = _get_ident() if thread is None else thread.ident
        serving[ident] = ch
        fields = ch.head.split("\0")
        app = self.apps_by_index.get(fields[0])
        if app is None:
            app = self.apps[int(fields[0])]
        environ = build_environ(fields, app.base_environ, self.header_keys, thread)
        environ["wsgi.input"] = Input(ch)
        resp = Response(ch, fields[1] == "HEAD")
        result = None
        try:
            try:
                result = app.callable(environ, resp.start_response)
                if type(result) is list or type(result) is tuple:
                    if len(result) == 1 and type(result[0]) is bytes:
                        resp.complete(result[0])
                    else:
                        try:
                            body = b"".join(result)
                        except TypeError:
                            raise AppError("the application must produce bytes, got %r"
                                           % ([type(x).__name__ for x in result],))
                        resp.complete(body)
                elif type(result) is FileWrapper and resp.offload_file(result):
                    pass
                else:
                    write = resp.write
                    for block in result:
                        if block:
                            write(block)
                        elif ch.cancelled:
                            raise ClientDisconnected("the client closed the connection")
                    resp.finish()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except ConnectionLost:
            raise
        except ClientDisconnected:
            resp.abort()
        except BaseException as e:
            if ch.cancelled:
                resp.abort()
            else:
                self._failed(ch, resp, fields, e)
        finally:
            serving.pop(ident, None)
            conn.done(ch)
            if self.watch_modules and len(sys.modules) != self.known_modules:
                self.report_modules()

    def _failed(self, ch, resp, fields, exc):
        if isinstance(exc, AppError):
            detail = "WSGI error: %s" % (exc,)
        else:
            detail = app_traceback(exc).rstrip()
        ch.log(LOG_ERROR, "Exception while serving %s %s (application %s):\n%s"
               % (fields[1], fields[5], self.apps[int(fields[0])].target, detail))
        if resp.ended:
            return  # the response was complete (close() failed after it): only the log says so
        if resp.head_sent:
            resp.abort()
            return
        resp.ended = True
        ch.fail(fields[1] == "HEAD")
