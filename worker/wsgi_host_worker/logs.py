"""Logging: stdout, stderr and wsgi.errors as LOG frames tagged with the request the writing thread
serves, and the bridge that keeps the level of records from the logging module."""

import io
import sys
import threading

from .wire import LOG_ERROR

# Per thread: log_level (while a logging record is written), and thread_id and thread_requests
# (mod_wsgi's counters) for a build_environ called without its thread's ThreadState.
local = threading.local()
# The Channel of the request each serving thread is running, by thread ident (threading.get_ident).
# A dict rather than threading.local: setting and clearing it is paid twice per request, and an
# attribute of a threading.local costs several times a dict item.
serving = {}
_get_ident = threading.get_ident


def log_line(conn, level, text):
    """A line written by this thread: the LOG of the request it serves, on that request's own
    connection; else (no request) a process-level LOG (id 0) on conn, the primary connection."""
    req = serving.get(_get_ident())
    if req is None:
        conn.log(level, 0, text)
    else:
        req.conn.log(level, req.id, text)


class LogWriter(io.TextIOBase):
    """A text stream whose complete lines go to the front end's error log as LOG frames,
    tagged with the request the writing thread is serving (on that request's connection; conn,
    the primary connection, carries the lines written outside a request)."""

    def __init__(self, conn, level, fd, name):
        self._conn = conn
        self._level = level
        self._fd = fd
        self._name = name
        self._parts = {}
        self._lock = threading.Lock()

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    @property
    def name(self):
        return self._name

    @property
    def buffer(self):
        return _BinaryLogWriter(self)

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if not text:
            return 0
        req = serving.get(_get_ident())
        key = 0 if req is None else (req.conn, req.id)  # request ids are per connection
        level = getattr(local, "log_level", None) or self._level
        with self._lock:
            pending = self._parts.pop(key, "") + text
            if "\n" in pending:
                complete, _, rest = pending.rpartition("\n")
                if rest:
                    self._parts[key] = rest
            else:
                self._parts[key] = pending
                return len(text)
        if req is None:
            self._conn.log(level, 0, complete)
        else:
            req.conn.log(level, req.id, complete)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        req = serving.get(_get_ident())
        with self._lock:
            rest = self._parts.pop(0 if req is None else (req.conn, req.id), "")
        if rest:
            log_line(self._conn, getattr(local, "log_level", None) or self._level, rest)


class _BinaryLogWriter(object):
    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self):
        self._text.flush()


def install_logging_bridge(conn):
    """Keep the level of records from the logging module: an unconfigured logging call goes to
    the front end with its own level, and any handler that writes a record to our stderr, stdout
    or wsgi.errors (a StreamHandler, or an application's own Handler such as Radicale's, which
    writes to wsgi.errors) tags those lines with the record's level. Plain writes keep their
    stream's level: stderr and wsgi.errors ERROR (as mod_wsgi logs them), stdout INFO."""
    try:
        import logging
    except Exception:
        return

    class FrontEndHandler(logging.Handler):
        def emit(self, record):
            try:
                log_line(conn, min(max(record.levelno, 1), 255), self.format(record))
            except Exception:
                self.handleError(record)

    last = FrontEndHandler(logging.WARNING)
    last.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.lastResort = last
    original_handle = logging.Handler.handle
    original_emit = logging.StreamHandler.emit

    def handle(self, record):
        previous = getattr(local, "log_level", None)
        local.log_level = min(max(getattr(record, "levelno", LOG_ERROR), 1), 255)
        try:
            return original_handle(self, record)
        finally:
            local.log_level = previous

    def emit(self, record):
        original_emit(self, record)
        if self.stream is sys.stderr or self.stream is sys.stdout:
            self.stream.flush()  # the line leaves while the record's level applies

    logging.Handler.handle = handle
    logging.StreamHandler.emit = emit
