"""The WSGI environ: what stays the same for every request of an application (base_environ), and
what a REQUEST frame's head adds (build_environ), as mod_wsgi's daemon mode fills it."""

import itertools
import threading
import time

from .logs import local
from .wire import FIXED_FIELDS

SERVER_SOFTWARE = "wsgi-host"
# The mod_wsgi whose environ wsgi-host reproduces (mod_wsgi.version), checked against the real one
# by test/apache-differential.test.ts.
MOD_WSGI_VERSION = (4, 9, 4)
# Request facts the front end sends before the headers, under names no HTTP header can have.
PSEUDO_FIELDS = {
    ":server-addr": "SERVER_ADDR",
    ":listener-host": "mod_wsgi.listener_host",
    ":listener-port": "mod_wsgi.listener_port",
    ":request-start": "mod_wsgi.request_start",
}
# mod_wsgi.thread_id (1, 2... per worker thread) and mod_wsgi.total_requests (before this one).
_thread_ids = itertools.count(1)
_request_count = itertools.count()
_time_ns = time.time_ns


class ThreadState(object):
    """A serving thread's own: its ident, and what build_environ counts per thread
    (mod_wsgi.thread_id, mod_wsgi.thread_requests)."""

    __slots__ = ("ident", "thread_id", "requests")

    def __init__(self):
        self.ident = threading.get_ident()
        self.thread_id = None  # numbered at its first request, as mod_wsgi does
        self.requests = 0


def _local_state():
    """The calling thread's ThreadState, for a build_environ called without one."""
    state = getattr(local, "environ_state", None)
    if state is None:
        state = local.environ_state = ThreadState()
    return state


def header_key(name):
    """Environ key for a request header name; '' when the header is dropped."""
    if "_" in name:
        return ""  # as Apache does: such headers could spoof others once '-' becomes '_'
    upper = name.upper().replace("-", "_")
    if upper == "CONTENT_TYPE" or upper == "CONTENT_LENGTH":
        return upper
    return "HTTP_" + upper


def base_environ(cfg, spec, threads, errors, file_wrapper):
    """What every request of the application spec (one of INIT's apps) starts from."""
    group = cfg.get("group", "")
    app_group = cfg.get("applicationGroup", "")
    base = {
        "wsgi.version": (1, 0),
        "wsgi.multithread": threads > 1,
        "wsgi.multiprocess": bool(cfg.get("multiprocess", False)),
        "wsgi.run_once": False,
        "wsgi.errors": errors,
        "wsgi.file_wrapper": file_wrapper,
        "wsgi.input_terminated": True,
        "SERVER_SOFTWARE": SERVER_SOFTWARE,
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SIGNATURE": "",
        "CONTEXT_PREFIX": "",
        "mod_wsgi.version": MOD_WSGI_VERSION,
        "mod_wsgi.process_group": group,
        # mod_wsgi names the main interpreter (%{GLOBAL}) "".
        "mod_wsgi.application_group": "" if app_group == "%{GLOBAL}" else app_group,
        "mod_wsgi.callable_object": spec.get("callable", "application"),
        "mod_wsgi.request_handler": "wsgi-script",
        "mod_wsgi.handler_script": "",
        "mod_wsgi.script_reloading": "1",
        "mod_wsgi.enable_sendfile": "0",
        "mod_wsgi.ignore_activity": "0",
    }
    if group:
        # Daemon mode: Apache connected to the daemon once, and did not have to restart it.
        base["mod_wsgi.daemon_connects"] = "1"
        base["mod_wsgi.daemon_restarts"] = "0"
    if spec.get("kind") == "script":
        base["SCRIPT_FILENAME"] = spec["target"]
    for k, v in (cfg.get("environ") or {}).items():
        base[k] = v
    for k, v in (spec.get("environ") or {}).items():
        base[k] = v
    return base


def build_environ(fields, base, keys, thread=None):
    """The environ of one request: base (base_environ) plus the REQUEST head's fields (its
    latin-1 text split at NUL). keys caches header_key() by header name; thread: the serving
    thread's ThreadState (its counters)."""
    env = base.copy()
    env["REQUEST_METHOD"] = fields[1]
    env["SCRIPT_NAME"] = env["mod_wsgi.script_name"] = fields[2]
    env["PATH_INFO"] = env["mod_wsgi.path_info"] = fields[3]
    env["QUERY_STRING"] = fields[4]
    env["REQUEST_URI"] = fields[5]
    env["SERVER_PROTOCOL"] = fields[6]
    env["REMOTE_ADDR"] = fields[7]
    env["REMOTE_PORT"] = fields[8]
    env["SERVER_NAME"] = fields[9]
    env["SERVER_PORT"] = fields[10]
    env["wsgi.url_scheme"] = env["REQUEST_SCHEME"] = fields[11]
    env["mod_wsgi.request_id"] = fields[12]
    n = len(fields)
    i = FIXED_FIELDS
    if n > 21 and fields[13] == ":server-addr" and fields[15] == ":listener-host" \
            and fields[17] == ":listener-port" and fields[19] == ":request-start":
        # The front end's pseudo-fields, in the order it sends them.
        env["SERVER_ADDR"] = fields[14]
        env["mod_wsgi.listener_host"] = fields[16]
        env["mod_wsgi.listener_port"] = fields[18]
        env["mod_wsgi.request_start"] = fields[20]
        i = 21
    pseudo = PSEUDO_FIELDS
    while i < n:
        name = fields[i]
        key = pseudo.get(name)
        if key is None:
            if name[:1] != ":":
                break
            if name.startswith(":env:"):
                # An environ variable of the connection or stream (SSL_TLS_SNI, HTTP2...), named by the front end.
                key = name[5:]
        if key:
            env[key] = fields[i + 1]
        i += 2
    while i < n:
        name = fields[i]
        key = keys.get(name)
        if key is None:
            key = header_key(name)
            if len(keys) < 4096:
                keys[name] = key
        if key:
            if key in env:
                env[key] = env[key] + ("; " if key == "HTTP_COOKIE" else ", ") + fields[i + 1]
            else:
                env[key] = fields[i + 1]
        i += 2
    if "HTTP_X_REQUEST_ID" not in env:
        env["HTTP_X_REQUEST_ID"] = fields[12]
    # mod_wsgi's counters and times (microseconds since the epoch, as strings).
    if thread is None:
        thread = _local_state()
    if thread.thread_id is None:
        thread.thread_id = next(_thread_ids)
    env["mod_wsgi.thread_id"] = thread.thread_id
    env["mod_wsgi.thread_requests"] = thread.requests
    thread.requests += 1
    env["mod_wsgi.total_requests"] = next(_request_count)
    now = str(_time_ns() // 1000)
    env["mod_wsgi.script_start"] = now
    if "mod_wsgi.daemon_connects" in env:
        env["mod_wsgi.daemon_start"] = now
        env["mod_wsgi.queue_start"] = env.get("mod_wsgi.request_start", now)
    return env
