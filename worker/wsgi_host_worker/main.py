"""The worker's life: connect to the front end, read INIT, load the applications, say READY (or
LOAD_FAILED), serve until SHUTDOWN or until the front end goes away. `probe` instead reports the
interpreter and whether the applications import. The boot (worker/boot.py) calls main()."""

import json
import os
import signal
import sys
import threading
import traceback

from .connection import SPIN_BUDGET, Connection, ConnectionLost, connect_front_end
from .extra import start_accepting
from .heap import prime as prime_allocator
from .loader import add_python_path, app_traceback, missing_module_folder, probe, python_info
from .logs import install_logging_bridge
from .serve import Worker
from .wire import PROTOCOL_VERSION, T_LOAD_FAILED, T_READY


def set_process_name(name):
    """display-name: the name ps -o comm, top and /proc/PID/comm show (Linux, 15 bytes)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, ctypes.c_char_p(name.encode("utf-8")[:15]), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def _watch_parent():
    """stdin is a pipe from the front end; end-of-file means the front end is gone."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os._exit(0)


def main(args):
    """args: the command line after the boot's own ([] to serve, or ["probe", spec])."""
    if args and args[0] == "probe":
        probe(json.loads(args[1]) if len(args) > 1 else {})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.pop("WSGI_HOST_WATCH_STDIN", "") == "1":
        # First: a front end that dies before it connects must not leave this process waiting.
        threading.Thread(target=_watch_parent, name="wsgi-host-parent-watch", daemon=True).start()
    try:
        sock, listener = connect_front_end()
    except OSError as e:
        sys.stderr.write("wsgi-host worker: cannot reach the front end (%s);"
                         " this program is started by wsgi-host, not by hand\n" % (e,))
        return 2
    try:
        import faulthandler
        faulthandler.register(signal.SIGUSR2, file=sys.__stderr__, all_threads=True, chain=False)
    except Exception:
        pass
    prime_allocator()  # before any request body: see heap.py
    conn = Connection(sock)
    try:
        config = conn.read_init()
    except ConnectionLost:
        return 0
    conn.request_window = int(config["requestWindow"])
    conn.log_threshold = int(config.get("logLevel", 0))
    conn.spin_budget = float(config.get("spinBudget", SPIN_BUDGET))
    conn.response_window = int(config["responseWindow"])
    conn.hub.spin_budget = conn.spin_budget
    worker = Worker(conn, config, listener)

    def on_term(signum, frame):
        # No locks here: the main thread may hold them when the signal arrives.
        worker.terminate()

    signal.signal(signal.SIGTERM, on_term)
    if config.get("displayName"):
        set_process_name(config["displayName"])
    sys.stdout = worker.stdout
    sys.stderr = worker.stderr
    install_logging_bridge(conn)
    try:
        if config.get("addWorkingDirectory"):
            sys.path.insert(0, os.getcwd())
        add_python_path(config.get("pythonPath") or [])
        worker.load()
    except BaseException as e:
        report = {
            "error": "".join(traceback.format_exception_only(type(e), e)).strip(),
            "traceback": app_traceback(e),
            "python": python_info(),
            "cwd": os.getcwd(),
        }
        missing = missing_module_folder(e, config.get("apps"))
        if missing is not None:
            report["missing"] = missing
        if config.get("pathSetting"):
            report["pathSetting"] = config["pathSetting"]
        conn.frame(T_LOAD_FAILED, 0, 0, json.dumps(report).encode("utf-8"))
        os._exit(3)
    info = {"protocol": PROTOCOL_VERSION, "pid": os.getpid(), "python": python_info(),
            "apps": [a.target for a in worker.apps], "threads": worker.threads}
    conn.frame(T_READY, 0, 0, json.dumps(info).encode("utf-8"))
    if worker.watch_modules:
        worker.report_modules()
    if listener is not None:
        start_accepting(worker)  # the front end's other event loops connect from now on
    worker.serve()
    return 0
