"""wsgi-host worker: runs one process group's WSGI applications for the wsgi-host front end.

Standard library only, Python 3.8+. The front end starts this program with the group's own
interpreter (``<python-home>/bin/python``) through a one-line ``-c`` bootstrap, so this file's
folder is never on the application's ``sys.path``. It talks to the front end over one stream socket
carrying the framed protocol described in docs/protocol.md: on Linux a unix socket this process
listens on (``WSGI_HOST_SOCKET``, see connect_front_end), elsewhere file descriptor 3. stdin is a
pipe the front end never writes: it reaches end-of-file when the front end goes away, and then
this process exits.
"""

import sys
import os
import struct
import socket
import threading
import time
import traceback
import json
import io
import signal
import stat
import hashlib
import types
import importlib
import itertools
import atexit
from collections import deque

try:
    import fcntl
except ImportError:  # not on Unix: no file offload
    fcntl = None

PROTOCOL_VERSION = 1

# Frame header: payload length (u32), request id (u32), type (u8), flags (u8). Big-endian.
HEADER = struct.Struct(">IIBB")
HEADER_SIZE = HEADER.size
U32 = struct.Struct(">I")
RESPONSE_PREFIX = struct.Struct(">HI")

# Frame types (see docs/protocol.md). Front end -> worker:
T_INIT = 1
T_REQUEST = 2
T_DATA = 3  # both directions
T_CREDIT = 4  # both directions
T_CANCEL = 5
T_FILE_DONE = 6
T_SHUTDOWN = 7
T_RECALL = 8
# Worker -> front end:
T_READY = 16
T_LOAD_FAILED = 17
T_RESPONSE = 18
T_FILE = 19
T_LOG = 20
T_MODULES = 21

F_END = 1
F_CONTINUE = 2
F_ABORT = 4
F_NOT_STARTED = 8

FILE_SENT = 0
FILE_REFUSED = 1
FILE_ABORTED = 2

LOG_DEBUG = 10
LOG_INFO = 20
LOG_WARNING = 30
LOG_ERROR = 40
LOG_CRITICAL = 50

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
# Adaptive busy-polling: an idle worker spins this long (seconds) on a non-blocking read before it
# sleeps, but only while the recent average wait for a request is shorter than that. Waking a
# sleeping process costs tens of microseconds on virtual machines; a closed-loop client saves that
# on every request, while light or bursty traffic never spins.
SPIN_BUDGET = 0.0003
_monotonic = time.monotonic
READ_BUFFER = 256 * 1024
SEND_JOIN_LIMIT = 64 * 1024
# A whole response's body up to this size travels inside its RESPONSE frame (one frame, one write);
# larger ones follow as a DATA frame (the same write).
INLINE_BODY = 16 * 1024
ERROR_BODY = (
    b"Internal Server Error\n\n"
    b"The application failed to handle this request. The server's error log says why.\n"
)
_ERROR_HEAD = ("Internal Server Error\0Content-Type\0text/plain; charset=utf-8\0Content-Length\0%d"
               % (len(ERROR_BODY),)).encode("latin-1")
# The RESPONSE payload of a 500 (before its body) for an application that failed before it started
# its response.
ERROR_PREFIX = RESPONSE_PREFIX.pack(500, len(_ERROR_HEAD)) + _ERROR_HEAD
# Status codes whose responses have no body (1xx final statuses are refused by _encode_head).
NO_BODY_CODES = frozenset(["204", "304"])

_local = threading.local()


class ConnectionLost(Exception):
    """The front end went away."""


class ClientDisconnected(OSError):
    """Raised inside the application when its client has gone away (request cancelled)."""


def current_request_id():
    req = getattr(_local, "req", None)
    return req.id if req is not None else 0


# ---------------------------------------------------------------------------------------------
# Connection to the front end: framing, leader/follower reading, coalesced writing.
# ---------------------------------------------------------------------------------------------


class Request(object):
    __slots__ = (
        "id", "head", "flags", "chunks", "body_done", "cancelled", "credit",
        "continue_pending", "unacked", "file_result", "recalled",
    )

    def __init__(self, rid, head, flags, credit):
        self.id = rid
        self.head = head
        self.flags = flags
        self.chunks = deque()
        self.body_done = bool(flags & F_END)
        self.cancelled = False
        self.credit = credit
        self.continue_pending = bool(flags & F_CONTINUE)
        self.unacked = 0
        self.file_result = None
        self.recalled = False


class Connection(object):
    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()
        self.wlock = threading.Lock()
        self.rbuf = bytearray(READ_BUFFER)
        self.rstart = 0
        self.rend = 0
        self.reading = False
        self.closed = False
        self.shutting_down = False
        self.pending = deque()
        self.requests = {}
        self.waiters = []
        self.response_window = 0
        self.request_window = 0
        self.running = 0  # requests being handled by a thread
        self.spin_budget = SPIN_BUDGET
        self.log_threshold = 0  # lines below this level (the front end's --log-level) are not sent
        self.wait_average = 1.0  # recent average wait for a request while idle (seconds)
        # next_request's wait condition, made once rather than per request.
        self._has_work = lambda: self.pending or self.shutting_down

    # -- writing ------------------------------------------------------------------------------

    def send(self, data):
        try:
            with self.wlock:
                self.sock.sendall(data)
        except OSError:
            raise ConnectionLost()

    def send_parts(self, parts):
        """Send several buffers as one write, without copying large ones."""
        total = 0
        for p in parts:
            total += len(p)
        if total <= SEND_JOIN_LIMIT:
            self.send(b"".join(parts))
            return
        views = [memoryview(p).cast("B") for p in parts if len(p)]
        try:
            with self.wlock:
                while views:
                    sent = self.sock.sendmsg(views[:512])
                    while sent:
                        n = len(views[0])
                        if sent >= n:
                            sent -= n
                            views.pop(0)
                        else:
                            views[0] = views[0][sent:]
                            sent = 0
        except OSError:
            raise ConnectionLost()

    def frame(self, ftype, rid, flags, payload=b""):
        self.send(HEADER.pack(len(payload), rid, ftype, flags) + payload)

    def log(self, level, rid, text):
        if level < self.log_threshold:
            return  # the front end's log level drops it: do not send it
        data = bytes((level,)) + text.encode("utf-8", "replace")
        try:
            self.frame(T_LOG, rid, 0, data)
        except ConnectionLost:
            pass

    # -- reading ------------------------------------------------------------------------------

    def read_init(self):
        """Read the INIT frame synchronously, before any thread starts."""
        while True:
            frames = self._read_frames()
            if frames is None:
                raise ConnectionLost()
            for ftype, rid, flags, payload in frames:
                if ftype == T_INIT:
                    return json.loads(payload.decode("utf-8"))
            # Anything before INIT is a protocol error; ignore it.

    def _read_frames(self, idle=False, wait=True):
        """Block until at least one whole frame is buffered; return the frames (None at EOF).
        idle: no request is running, so this read may spin before it sleeps (SPIN_BUDGET).
        wait=False: return what can be read without blocking ([] when nothing)."""
        frames = []
        while True:
            buf = self.rbuf
            start = self.rstart
            end = self.rend
            with memoryview(buf) as view:
                while end - start >= HEADER_SIZE:
                    length, rid, ftype, flags = HEADER.unpack_from(buf, start)
                    stop = start + HEADER_SIZE + length
                    if stop > end:
                        break
                    frames.append((ftype, rid, flags, bytes(view[start + HEADER_SIZE:stop])))
                    start = stop
            if start == end:
                start = end = 0
            self.rstart = start
            self.rend = end
            if frames:
                return frames
            # Need more bytes: move the partial frame to the front; grow for an oversized frame.
            if start:
                buf[0:end - start] = buf[start:end]
                end -= start
                self.rstart = 0
                self.rend = end
            if end >= HEADER_SIZE:
                need = HEADER_SIZE + U32.unpack_from(buf, 0)[0]
                if need > len(buf):
                    grown = bytearray(need)
                    grown[:end] = buf[:end]
                    buf = self.rbuf = grown
            elif end == 0 and len(buf) > READ_BUFFER:
                buf = self.rbuf = bytearray(READ_BUFFER)
            try:
                with memoryview(buf) as view:
                    if not wait:
                        n = self.sock.recv_into(view[end:], 0, socket.MSG_DONTWAIT)
                    elif idle and self.spin_budget:
                        n = self._spin_read(view[end:])
                    else:
                        n = self.sock.recv_into(view[end:])
            except InterruptedError:
                continue
            except BlockingIOError:
                return frames
            except OSError:
                n = 0
            if n == 0:
                return None
            self.rend = end + n

    def _spin_read(self, view):
        sock = self.sock
        started = _monotonic()
        n = -1
        if self.wait_average < self.spin_budget:
            deadline = started + self.spin_budget
            sock.setblocking(False)
            try:
                while True:
                    try:
                        n = sock.recv_into(view)
                        break
                    except BlockingIOError:
                        if _monotonic() > deadline:
                            break
            finally:
                sock.setblocking(True)
        if n < 0:
            n = sock.recv_into(view)
        waited = _monotonic() - started
        self.wait_average += (waited - self.wait_average) * 0.25
        return n

    def wait_until(self, pred, cond, idle=False):
        """Wait (lock held) until pred() is true, reading the socket if no other thread is."""
        while not pred():
            if self.closed:
                raise ConnectionLost()
            if self.reading:
                entry = (cond, pred)
                self.waiters.append(entry)
                try:
                    cond.wait()
                finally:
                    self.waiters.remove(entry)
                continue
            self.reading = True
            idle = idle and self.running == 0
            self.lock.release()
            try:
                frames = self._read_frames(idle)
            finally:
                self.lock.acquire()
                self.reading = False
            self._after_read(frames, pred)

    def _after_read(self, frames, pred=None):
        """Dispatch what the reader read (lock held) and wake the threads it concerns. pred: the
        reader's own condition; when it holds (or there is none) the reader stops reading, so a
        thread still waiting takes over that role."""
        if frames is None:
            self.closed = True
            for c, _ in self.waiters:
                c.notify()
            raise ConnectionLost()
        for f in frames:
            self._dispatch(f)
        leaving = pred is None or pred()
        successor = None
        for c, p in self.waiters:
            if p():
                c.notify()
            elif successor is None:
                successor = c
        if leaving and successor is not None:
            successor.notify()  # hand the reader's role to a thread still waiting

    def _poll(self):
        """(lock held) Read and dispatch whatever frames already arrived, without blocking: a
        CANCEL or RECALL for a waiting request is seen before that request is started."""
        if self.reading:
            return
        self.reading = True
        self.lock.release()
        try:
            frames = self._read_frames(wait=False)
        finally:
            self.lock.acquire()
            self.reading = False
        if frames is None or frames:
            self._after_read(frames)

    def _dispatch(self, frame):
        ftype, rid, flags, payload = frame
        if ftype == T_REQUEST:
            req = Request(rid, payload, flags, self.response_window)
            self.requests[rid] = req
            self.pending.append(req)
            return
        req = self.requests.get(rid)
        if ftype == T_DATA:
            if req is not None:
                if payload:
                    req.chunks.append(payload)
                if flags & F_END:
                    req.body_done = True
        elif ftype == T_CREDIT:
            if req is not None:
                req.credit += U32.unpack_from(payload, 0)[0]
        elif ftype == T_CANCEL:
            if req is not None:
                req.cancelled = True
        elif ftype == T_RECALL:
            if req is not None:
                req.recalled = True  # honoured only if no thread has started it
        elif ftype == T_FILE_DONE:
            if req is not None:
                req.file_result = payload[0] if payload else FILE_ABORTED
        elif ftype == T_SHUTDOWN:
            self.shutting_down = True

    # -- per-request operations used by the handling thread -----------------------------------

    def next_request(self, cond):
        with self.lock:
            if self.pending:
                self._poll()
            self.wait_until(self._has_work, cond, True)
            if self.pending:
                self.running += 1
                return self.pending.popleft()
            return None

    def done(self, req):
        with self.lock:
            self.running -= 1
            self.requests.pop(req.id, None)

    def next_body_chunk(self, req, cond):
        """Next chunk of the request body; b'' at its end. Grants credit as it is consumed."""
        grant = 0
        with self.lock:
            if req.continue_pending:
                req.continue_pending = False
                grant = self.request_window
            if not req.chunks and not req.body_done and not req.cancelled:
                if grant:
                    self.lock.release()
                    try:
                        self.frame(T_CREDIT, req.id, 0, U32.pack(grant))
                    finally:
                        self.lock.acquire()
                    grant = 0
                self.wait_until(lambda: req.chunks or req.body_done or req.cancelled, cond)
            if req.chunks:
                chunk = req.chunks.popleft()
                req.unacked += len(chunk)
                if req.unacked * 2 >= self.request_window and not req.body_done:
                    grant += req.unacked
                    req.unacked = 0
            elif req.cancelled:
                raise ClientDisconnected("the client closed the connection")
            else:
                chunk = b""
        if grant:
            self.frame(T_CREDIT, req.id, 0, U32.pack(grant))
        return chunk

    def take_credit(self, req, want, cond):
        with self.lock:
            if req.credit <= 0 and not req.cancelled:
                self.wait_until(lambda: req.credit > 0 or req.cancelled, cond)
            if req.cancelled:
                raise ClientDisconnected("the client closed the connection")
            n = want if want < req.credit else req.credit
            req.credit -= n
            return n

    def wait_file_result(self, req, cond):
        with self.lock:
            self.wait_until(lambda: req.file_result is not None or req.cancelled, cond)
            return FILE_ABORTED if req.file_result is None else req.file_result


# ---------------------------------------------------------------------------------------------
# WSGI: environ, input, errors, start_response, response streaming.
# ---------------------------------------------------------------------------------------------


def _header_key(name):
    """Environ key for a request header name; '' when the header is dropped."""
    if "_" in name:
        return ""  # as Apache does: such headers could spoof others once '-' becomes '_'
    upper = name.upper().replace("-", "_")
    if upper == "CONTENT_TYPE" or upper == "CONTENT_LENGTH":
        return upper
    return "HTTP_" + upper


class Input(object):
    """wsgi.input: the request body, streamed from the front end with flow control."""

    __slots__ = ("_conn", "_req", "_cond", "_buf", "_eof")

    def __init__(self, conn, req, cond):
        self._conn = conn
        self._req = req
        self._cond = cond
        self._buf = b""
        self._eof = False

    def _more(self):
        if self._eof:
            return False
        chunk = self._conn.next_body_chunk(self._req, self._cond)
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf + chunk if self._buf else chunk
        return True

    def read(self, size=-1):
        if size is None or size < 0:
            while self._more():
                pass
            data = self._buf
            self._buf = b""
            return data
        while len(self._buf) < size and self._more():
            pass
        data = self._buf[:size]
        self._buf = self._buf[size:]
        return data

    def readline(self, size=-1):
        if size is None:
            size = -1
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0:
                end = i + 1
                break
            if 0 <= size <= len(self._buf):
                end = size
                break
            start = len(self._buf)
            if not self._more():
                end = len(self._buf)
                break
        if 0 <= size < end:
            end = size
        data = self._buf[:end]
        self._buf = self._buf[end:]
        return data

    def readlines(self, hint=-1):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        pass


class LogWriter(io.TextIOBase):
    """A text stream whose complete lines go to the front end's error log as LOG frames,
    tagged with the request the writing thread is serving."""

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
        rid = current_request_id()
        level = getattr(_local, "log_level", None) or self._level
        with self._lock:
            pending = self._parts.pop(rid, "") + text
            if "\n" in pending:
                complete, _, rest = pending.rpartition("\n")
                if rest:
                    self._parts[rid] = rest
            else:
                self._parts[rid] = pending
                return len(text)
        self._conn.log(level, rid, complete)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        rid = current_request_id()
        with self._lock:
            rest = self._parts.pop(rid, "")
        if rest:
            self._conn.log(getattr(_local, "log_level", None) or self._level, rid, rest)


class _BinaryLogWriter(object):
    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self):
        self._text.flush()


class ErrorStream(object):
    """wsgi.errors."""

    __slots__ = ("_writer",)

    def __init__(self, writer):
        self._writer = writer

    def write(self, text):
        return self._writer.write(text)

    def writelines(self, seq):
        for line in seq:
            self._writer.write(line)

    def flush(self):
        self._writer.flush()


class FileWrapper(object):
    """wsgi.file_wrapper: when the application returns one over a regular file this process holds
    open for reading, the front end may send the file itself (it is offered by descriptor number,
    see Response.offload_file); otherwise it is iterated in blocks, read with this process's rights."""

    def __init__(self, filelike, blksize=65536):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


HOP_BY_HOP = frozenset(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "trailers", "transfer-encoding", "upgrade"])
HOP_BY_HOP_LENGTHS = frozenset(len(h) for h in HOP_BY_HOP)
_warned = set()


def _warn_once(conn, rid, key, text):
    if key not in _warned:
        _warned.add(key)
        conn.log(LOG_WARNING, rid, text + " (said once per process)")


class AppError(Exception):
    """The application broke a WSGI rule; the message says which."""


def _encode_head(status, headers, extra):
    """RESPONSE payload head: (status code, latin-1 'reason\\0name\\0value...')."""
    if type(status) is not str:
        raise AppError("status must be a str such as '200 OK', got %r" % (status,))
    if len(status) < 4 or status[3] != " " or not status[:3].isdigit():
        raise AppError("status must look like '200 OK', got %r" % (status,))
    if status[0] == "1":
        raise AppError("the final status must not be 1xx (got %r): the server sends 100 Continue itself" % (status,))
    if type(headers) is not list:
        raise AppError("response headers must be a list of (name, value) tuples, got %s"
                       % type(headers).__name__)
    fields = [status[4:]]
    try:
        for name, value in headers:
            fields.append(name)
            fields.append(value)
    except (TypeError, ValueError):
        raise AppError("response headers must be (name, value) tuples, got %r" % (headers,))
    if extra:
        fields.extend(extra)
    try:
        text = "\0".join(fields)
    except TypeError:
        raise AppError("response header names and values must be str: %r" % (headers,))
    if text.count("\0") != len(fields) - 1:
        raise AppError("a response header contains a NUL character: %r" % (headers,))
    try:
        return int(status[:3]), text.encode("latin-1")
    except UnicodeEncodeError:
        raise AppError("response headers must be latin-1 text (PEP 3333): %r" % (headers,))


class Response(object):
    """start_response, write() and the streaming of one response."""

    __slots__ = ("conn", "req", "cond", "status", "headers", "head_sent", "declared", "sent",
                 "head_only", "bodyless", "ended")

    def __init__(self, conn, req, cond, head_only):
        self.conn = conn
        self.req = req
        self.cond = cond
        self.status = None
        self.headers = None
        self.head_sent = False
        self.declared = None
        self.sent = 0
        self.head_only = head_only
        self.bodyless = False  # set with the head: a HEAD request, or a 204/304 status
        self.ended = False  # the response's last frame was sent: nothing more may be written

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.head_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AppError("start_response() was called a second time without exc_info")
        self.status = status
        self.headers = headers
        return self.write

    def _declared_length(self):
        """The application's Content-Length (None without one). Also drops hop-by-hop headers,
        which PEP 3333 forbids applications to send (the server frames the response itself), and
        a repeated Content-Length."""
        declared = None
        hoppish = False
        for name, value in self.headers:
            n = len(name)
            if n == 14 and name.lower() == "content-length":
                try:
                    length = int(value.strip())
                except (ValueError, AttributeError):
                    raise AppError("Content-Length %r is not a number" % (value,))
                if length < 0:
                    raise AppError("Content-Length %r is negative" % (value,))
                if declared is not None:
                    if declared != length:
                        raise AppError("two different Content-Length values (%d and %d)" % (declared, length))
                    hoppish = True  # the same value twice: rebuild to send it once
                declared = length
            elif n in HOP_BY_HOP_LENGTHS and name.lower() in HOP_BY_HOP:
                hoppish = True
        if hoppish:
            self.headers = self._without_hop_by_hop()
        return declared

    def _without_hop_by_hop(self):
        kept = []
        seen_length = False
        for name, value in self.headers:
            lower = name.lower()
            if lower == "content-length":
                if seen_length:
                    continue  # the same value twice: once is enough
                seen_length = True
            elif lower in HOP_BY_HOP:
                if lower == "connection" and "close" in value.lower():
                    kept.append(("Connection", "close"))  # honoured: close after this response
                else:
                    _warn_once(self.conn, self.req.id, "hop-by-hop:" + lower,
                               "the application sent the hop-by-hop header %s, which PEP 3333 forbids "
                               "applications to send; wsgi-host dropped it and frames the response itself"
                               % (name,))
                continue
            kept.append((name, value))
        return kept

    def _head(self, body_length):
        """Encode the RESPONSE prefix; body_length is the whole body's length when known."""
        if self.status is None:
            raise AppError("the application returned a body without calling start_response()")
        return self._prefix(self._declared_length(), body_length)

    def _prefix(self, declared, body_length):
        """The RESPONSE prefix, given the application's Content-Length (_declared_length())."""
        self.declared = declared
        no_body = type(self.status) is str and self.status[:3] in NO_BODY_CODES
        extra = None
        if declared is None and body_length is not None and not no_body:
            extra = ("Content-Length", str(body_length))
        status, head = _encode_head(self.status, self.headers, extra)
        self.bodyless = self.head_only or no_body
        self.head_sent = True
        return RESPONSE_PREFIX.pack(status, len(head)) + head

    def complete(self, body):
        """Send the whole response at once (the application returned a list)."""
        req = self.req
        prefix = self._head(len(body))
        declared = self.declared
        short = False
        if self.bodyless:
            body = b""
        elif declared is not None and declared != len(body):
            if len(body) > declared:
                body = body[:declared]
            else:
                short = True
        if len(body) <= req.credit:
            req.credit -= len(body)
            self.sent = len(body)
            end = 0 if short else F_END
            self.ended = not short
            if len(body) <= INLINE_BODY:
                self.conn.send_parts((HEADER.pack(len(prefix) + len(body), req.id, T_RESPONSE, end), prefix, body))
            else:
                # A larger body follows as DATA, in the same write: the front end streams DATA
                # straight through instead of assembling a large frame split across its reads.
                self.conn.send_parts((HEADER.pack(len(prefix), req.id, T_RESPONSE, 0), prefix,
                                      HEADER.pack(len(body), req.id, T_DATA, end), body))
        else:
            self.conn.frame(T_RESPONSE, req.id, 0, prefix)
            self._send_body(body)
            if not short:
                self._end()
        if short:
            self._short()

    def write(self, data):
        """The write() callable of start_response, and the sink for iterated blocks."""
        if self.ended:
            raise AppError("write() was called after the response ended (after the iteration "
                           "finished, from close() or from another thread)")
        if type(data) is not bytes:
            if isinstance(data, (bytearray, memoryview)):
                data = bytes(data)
            else:
                raise AppError("the application must produce bytes, got %s" % type(data).__name__)
        if not self.head_sent:
            self.conn.frame(T_RESPONSE, self.req.id, 0, self._head(None))
        if not data:
            return
        if self.declared is not None:
            room = self.declared - self.sent
            if room <= 0:
                return
            if len(data) > room:
                data = data[:room]
        if self.bodyless:
            self.sent += len(data)
            return
        self._send_body(data)

    def _send_body(self, data):
        conn = self.conn
        req = self.req
        view = memoryview(data)
        total = len(data)
        off = 0
        while off < total:
            if req.cancelled:
                raise ClientDisconnected("the client closed the connection")
            n = conn.take_credit(req, total - off, self.cond)
            conn.send_parts((HEADER.pack(n, req.id, T_DATA, 0), view[off:off + n]))
            off += n
        self.sent += total

    def finish(self):
        if not self.head_sent:
            self.complete(b"")
            return
        if self.declared is not None and self.sent < self.declared and not self.bodyless:
            self._short()
            return
        self._end()

    def _end(self):
        self.ended = True
        self.conn.frame(T_DATA, self.req.id, F_END)

    def abort(self):
        """The response's last frame: it failed (or was cancelled)."""
        self.ended = True
        self.conn.frame(T_DATA, self.req.id, F_END | F_ABORT)

    def _short(self):
        self.conn.log(LOG_ERROR, self.req.id,
                      "the application declared Content-Length: %d but produced %d bytes; "
                      "the connection is closed so the client sees a truncated response"
                      % (self.declared, self.sent))
        self.abort()

    def offload_file(self, wrapper):
        """Offer the front end a regular file this process holds open for reading, by descriptor
        number: the front end checks, in /proc, that this process holds it open for reading (never
        O_PATH) and that it is a regular file, and only then sends it itself. False when the file
        is not suitable (the wrapper is then iterated, and read with this process's own rights)."""
        f = wrapper.filelike
        if fcntl is None:
            return False
        try:
            fd = f.fileno()
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return False
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            if flags & getattr(os, "O_PATH", 0) or (flags & os.O_ACCMODE) not in (os.O_RDONLY, os.O_RDWR):
                return False
            offset = f.tell()
        except Exception:
            return False
        if type(fd) is not int or type(offset) is not int or fd < 0 or offset < 0:
            return False
        length = max(0, st.st_size - offset)
        if self.status is None:
            raise AppError("the application returned a file without calling start_response()")
        declared = self._declared_length()
        if declared is not None and declared < length:
            length = declared
        prefix = self._prefix(declared, length if declared is None else None)
        req = self.req
        if self.bodyless or length == 0:
            if declared and not self.bodyless:
                # Nothing to send, yet a length was declared: a response cut short.
                self.conn.frame(T_RESPONSE, req.id, 0, prefix)
                self._short()
                return True
            self.ended = True
            self.conn.frame(T_RESPONSE, req.id, F_END, prefix)
            return True
        self.conn.frame(T_RESPONSE, req.id, 0, prefix)
        offer = json.dumps({"fd": fd, "offset": offset, "length": length})
        self.conn.frame(T_FILE, req.id, 0, offer.encode("utf-8"))
        result = self.conn.wait_file_result(req, self.cond)
        if result == FILE_SENT:
            self.sent = length
            self.finish()
        elif result == FILE_REFUSED:
            f.seek(offset)
            remaining = length
            while remaining > 0:
                block = f.read(min(wrapper.blksize, remaining))
                if not block:
                    break
                self._send_body(block)
                remaining -= len(block)
            self.finish()
        else:
            raise ClientDisconnected("the client closed the connection")
        return True


class App(object):
    __slots__ = ("target", "callable", "base_environ")

    def __init__(self, target, func, base_environ):
        self.target = target
        self.callable = func
        self.base_environ = base_environ


class Worker(object):
    def __init__(self, conn, config):
        self.conn = conn
        self.config = config
        self.apps = []
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
            group = cfg.get("group", "")
            app_group = cfg.get("applicationGroup", "")
            base = {
                "wsgi.version": (1, 0),
                "wsgi.multithread": self.threads > 1,
                "wsgi.multiprocess": bool(cfg.get("multiprocess", False)),
                "wsgi.run_once": False,
                "wsgi.errors": self.errors,
                "wsgi.file_wrapper": FileWrapper,
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
            self.apps.append(App(spec["target"], func, base))

    # -- serving ------------------------------------------------------------------------------

    def report_modules(self):
        """--reload-on-changes: tell the front end which source files the application loaded
        (outside the interpreter's own library), so it can restart the group when one changes."""
        roots = tuple(set(os.path.join(p, "") for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)))
        files = []
        for m in list(sys.modules.values()):
            f = getattr(m, "__file__", None)
            if isinstance(f, str) and f.endswith(".py") and not f.startswith(roots):
                files.append(os.path.abspath(f))
        self.known_modules = len(sys.modules)
        files = sorted(set(files))
        fresh = [f for f in files if f not in self.hashed_pycs]
        self.hashed_pycs.update(fresh)
        use_source_hashes(fresh)
        self.conn.frame(T_MODULES, 0, 0, json.dumps(files).encode("utf-8"))

    def serve(self):
        for _ in range(self.threads - 1):
            t = threading.Thread(target=self._thread_main, name="wsgi-host-worker", daemon=True)
            t.start()
        self._thread_main()

    def _thread_main(self):
        conn = self.conn
        cond = threading.Condition(conn.lock)
        try:
            while True:
                req = conn.next_request(cond)
                if req is None:
                    break
                self.handle(req, cond)
        except ConnectionLost:
            os._exit(0)
        # Shutting down: the last thread to finish its request ends the process. The main thread
        # must not return before that: leaving main() would end the process under the others.
        with conn.lock:
            last = not conn.requests
        if last:
            shutdown_now(0)
        if threading.current_thread() is threading.main_thread():
            threading.Event().wait()

    def build_environ(self, req, fields, app):
        env = app.base_environ.copy()
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
        keys = self.header_keys
        n = len(fields)
        i = 13
        while i < n and fields[i][:1] == ":":
            key = PSEUDO_FIELDS.get(fields[i])
            if key is not None:
                env[key] = fields[i + 1]
            i += 2
        while i < n:
            name = fields[i]
            key = keys.get(name)
            if key is None:
                key = _header_key(name)
                if len(keys) < 4096:
                    keys[name] = key
            if key:
                value = fields[i + 1]
                old = env.get(key)
                if old is None:
                    env[key] = value
                elif key == "HTTP_COOKIE":
                    env[key] = old + "; " + value
                else:
                    env[key] = old + ", " + value
            i += 2
        if "HTTP_X_REQUEST_ID" not in env:
            env["HTTP_X_REQUEST_ID"] = fields[12]
        # mod_wsgi's counters and times (microseconds since the epoch, as strings).
        local = _local
        thread_id = getattr(local, "thread_id", None)
        if thread_id is None:
            thread_id = local.thread_id = next(_thread_ids)
            local.thread_requests = 0
        env["mod_wsgi.thread_id"] = thread_id
        env["mod_wsgi.thread_requests"] = local.thread_requests
        local.thread_requests += 1
        env["mod_wsgi.total_requests"] = next(_request_count)
        now = str(int(time.time() * 1000000))
        env["mod_wsgi.script_start"] = now
        if "mod_wsgi.daemon_connects" in env:
            env["mod_wsgi.daemon_start"] = now
            env["mod_wsgi.queue_start"] = env.get("mod_wsgi.request_start", now)
        return env

    def handle(self, req, cond):
        conn = self.conn
        if req.cancelled or req.recalled:
            # Cancelled, or recalled by the front end to run elsewhere, before it started: never run it.
            flags = F_END | F_ABORT | (F_NOT_STARTED if req.recalled and not req.cancelled else 0)
            conn.frame(T_DATA, req.id, flags)
            conn.done(req)
            return
        _local.req = req
        fields = req.head.decode("latin-1").split("\0")
        app = self.apps[int(fields[0])]
        environ = self.build_environ(req, fields, app)
        environ["wsgi.input"] = Input(conn, req, cond)
        resp = Response(conn, req, cond, fields[1] == "HEAD")
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
                        elif req.cancelled:
                            raise ClientDisconnected("the client closed the connection")
                    resp.finish()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except ConnectionLost:
            raise
        except ClientDisconnected:
            self._abort(req, resp)
        except BaseException as e:
            if req.cancelled:
                self._abort(req, resp)
            else:
                self._failed(req, resp, fields, e)
        finally:
            _local.req = None
            conn.done(req)
            if self.watch_modules and len(sys.modules) != self.known_modules:
                self.report_modules()

    def _abort(self, req, resp=None):
        if resp is not None:
            if resp.ended:
                return
            resp.ended = True
        self.conn.frame(T_DATA, req.id, F_END | F_ABORT)

    def _failed(self, req, resp, fields, exc):
        if isinstance(exc, AppError):
            detail = "WSGI error: %s" % (exc,)
        else:
            detail = app_traceback(exc).rstrip()
        self.conn.log(LOG_ERROR, req.id, "Exception while serving %s %s (application %s):\n%s"
                      % (fields[1], fields[5], self.apps[int(fields[0])].target, detail))
        if resp.ended:
            return  # the response was complete (close() failed after it): only the log says so
        if resp.head_sent:
            resp.abort()
            return
        resp.ended = True
        body = b"" if fields[1] == "HEAD" else ERROR_BODY
        self.conn.frame(T_RESPONSE, req.id, F_END, ERROR_PREFIX + body)


# ---------------------------------------------------------------------------------------------
# Loading applications and preparing the interpreter.
# ---------------------------------------------------------------------------------------------


# This program's own file name (as the bootstrap compiled it), and importlib's: frames of these at the
# start of a traceback are the server's, not the application's.
_OWN_FILE = globals().get("__file__") or "<wsgi-host worker>"
_IMPORTLIB_FILE = getattr(importlib, "__file__", None) or "<importlib>"


def _server_frame(filename):
    return filename in (_OWN_FILE, _IMPORTLIB_FILE) or filename.startswith("<frozen importlib")


def app_traceback(exc):
    """The traceback of an application's exception, from the application's first frame: the
    worker's own frames (and importlib's) that lead to it are left out. An exception raised by the
    worker itself (no application frame) is shown without a traceback."""
    tb = exc.__traceback__
    while tb is not None and _server_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is None:
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, tb))


def missing_module_folder(exc, apps):
    """For an import of a missing module that exists as a folder (or a .py file) in the working
    directory, next to a WSGI script or in the script's parent folder, but that folder is not on
    sys.path: {"name": ..., "folder": ...}, the folder python-path should name. Else None."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, ImportError) or not name:
        return None
    top = name.split(".")[0]
    candidates = [os.getcwd()]
    for app in apps or []:
        if app.get("kind") == "script":
            here = os.path.dirname(os.path.abspath(app["target"]))
            candidates += [here, os.path.dirname(here)]
    on_path = set(os.path.abspath(p or ".") for p in sys.path)
    for folder in candidates:
        if folder in on_path:
            continue
        if os.path.isdir(os.path.join(folder, top)) or os.path.isfile(os.path.join(folder, top + ".py")):
            return {"name": top, "folder": folder}
    return None


def load_application(spec):
    kind = spec["kind"]
    target = spec["target"]
    name = spec.get("callable") or "application"
    if kind == "script":
        module_name = "_mod_wsgi_" + hashlib.md5(target.encode("utf-8")).hexdigest()
        module = types.ModuleType(module_name)
        module.__file__ = target
        with open(target, "rb") as f:
            source = f.read()
        code = compile(source, target, "exec", dont_inherit=True)
        sys.modules[module_name] = module
        try:
            exec(code, module.__dict__)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        func = getattr(module, name, None)
        if func is None:
            raise LookupError("the WSGI script %s ran but defines no callable named %r; "
                              "name the callable with --callable (or callable-object=)"
                              % (target, name))
    else:
        module_name, _, expr = target.partition(":")
        module = importlib.import_module(module_name)
        func = _resolve_object(module, expr or name, target)
    if not callable(func):
        raise TypeError("%s: %r is not callable (it is %s)" % (target, name, type(func).__name__))
    return func


def _resolve_object(module, expr, target):
    """gunicorn-style 'module:name', 'module:obj.attr' or 'module:factory(args)'."""
    import ast
    call_args = None
    if expr.endswith(")") and "(" in expr:
        expr, _, args = expr.partition("(")
        node = ast.parse("f(" + args, mode="eval").body
        call_args = ([ast.literal_eval(a) for a in node.args],
                     dict((k.arg, ast.literal_eval(k.value)) for k in node.keywords))
    obj = module
    for part in expr.split("."):
        if not hasattr(obj, part):
            where = getattr(module, "__file__", None) or "built in"
            raise LookupError("%s: module %s (from %s) has no attribute %r; if that is not your module, "
                              "another one of the same name comes first on sys.path"
                              % (target, module.__name__, where, expr))
        obj = getattr(obj, part)
    if call_args is not None:
        obj = obj(*call_args[0], **call_args[1])
    return obj


def use_source_hashes(files):
    """--reload-on-changes: make the cached bytecode of the application's own modules checked by a
    hash of the source (PEP 552) instead of its modification time. Python trusts a timestamp-based
    __pycache__/*.pyc while the source's whole-second mtime and size are unchanged, so an edit in the
    same second that keeps the size would be detected, the group restarted, and the new process would
    still run the old code. With checked-hash bytecode every new process compiles what changed."""
    if sys.dont_write_bytecode or not files:
        return
    import importlib.util
    import py_compile
    for source in files:
        try:
            cached = importlib.util.cache_from_source(source)
            try:
                with open(cached, "rb") as f:
                    flags = int.from_bytes(f.read(8)[4:8], "little")
                if flags & 0b11 == 0b11:  # hash-based, checked against the source
                    continue
            except OSError:
                pass
            py_compile.compile(source, cfile=cached, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        except Exception:
            pass  # a folder the process cannot write: Python compiles from source then


def add_python_path(entries):
    """mod_wsgi's python-path: site.addsitedir() each entry (so .pth files are processed) and
    move what was added to the front of sys.path."""
    if not entries:
        return
    import site
    before = set(sys.path)
    for entry in entries:
        site.addsitedir(entry)
    added = []
    for p in sys.path:
        if p not in before and p not in added:
            added.append(p)
    rest = [p for p in sys.path if p not in added]
    sys.path[:] = added + rest


def python_info():
    import site
    try:
        site_packages = site.getsitepackages()
    except AttributeError:
        site_packages = []
    return {
        "executable": sys.executable,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "path": list(sys.path),
        "site_packages": site_packages,
    }


def install_logging_bridge(worker):
    """Keep the level of records from the logging module: an unconfigured logging call goes to
    the front end with its own level, and any handler that writes a record to our stderr, stdout
    or wsgi.errors (a StreamHandler, or an application's own Handler such as Radicale's, which
    writes to wsgi.errors) tags those lines with the record's level. Plain writes keep their
    stream's level: stderr and wsgi.errors ERROR (as mod_wsgi logs them), stdout INFO."""
    try:
        import logging
    except Exception:
        return
    conn = worker.conn

    class FrontEndHandler(logging.Handler):
        def emit(self, record):
            try:
                conn.log(min(max(record.levelno, 1), 255), current_request_id(), self.format(record))
            except Exception:
                self.handleError(record)

    last = FrontEndHandler(logging.WARNING)
    last.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.lastResort = last
    original_handle = logging.Handler.handle
    original_emit = logging.StreamHandler.emit

    def handle(self, record):
        previous = getattr(_local, "log_level", None)
        _local.log_level = min(max(getattr(record, "levelno", LOG_ERROR), 1), 255)
        try:
            return original_handle(self, record)
        finally:
            _local.log_level = previous

    def emit(self, record):
        original_emit(self, record)
        if self.stream is sys.stderr or self.stream is sys.stdout:
            self.stream.flush()  # the line leaves while the record's level applies

    logging.Handler.handle = handle
    logging.StreamHandler.emit = emit


def set_process_name(name):
    """display-name: the name ps -o comm, top and /proc/PID/comm show (Linux, 15 bytes)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(15, ctypes.c_char_p(name.encode("utf-8")[:15]), 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def shutdown_now(status):
    """Leave without waiting for application threads: flush logs, run atexit hooks, exit."""
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


def _watch_parent():
    """stdin is a pipe from the front end; end-of-file means the front end is gone."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os._exit(0)


PROBE_MARKER = "@@wsgi-host-probe@@"


def probe(spec):
    """Report the interpreter and its sys.path after python-path, and whether the applications
    import; used by the front end before it starts workers and by `wsgi-host check`."""
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the applications print must not corrupt the report
    result = {}
    try:
        if spec.get("addWorkingDirectory"):
            sys.path.insert(0, os.getcwd())
        add_python_path(spec.get("pythonPath") or [])
    except Exception as e:
        result["pythonPathError"] = "".join(traceback.format_exception_only(type(e), e)).strip()
    result["python"] = python_info()
    apps = []
    if sys.version_info >= (3, 8):
        for app in spec.get("apps") or []:
            entry = {"target": app["target"]}
            try:
                load_application(app)
                entry["ok"] = True
            except BaseException as e:
                entry["ok"] = False
                entry["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()
                entry["traceback"] = app_traceback(e)
                missing = missing_module_folder(e, [app])
                if missing is not None:
                    entry["missing"] = missing
            apps.append(entry)
    result["apps"] = apps
    out.write("\n" + PROBE_MARKER + json.dumps(result) + "\n")
    out.flush()
    os._exit(0)


def connect_front_end():
    """The connection to the front end. On Linux the front end names a unix socket path in its
    private runtime folder (WSGI_HOST_SOCKET): this process listens there, accepts only its parent
    (checked with SO_PEERCRED), then removes the path. The front end reads that connection into
    one reused buffer, much faster than a stdio pipe. Otherwise fd 3 is a socketpair."""
    path = os.environ.pop("WSGI_HOST_SOCKET", "")
    if not path:
        return socket.socket(fileno=3)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    parent = os.getppid()
    creds = struct.Struct("3i")
    try:
        while True:
            conn, _ = listener.accept()
            pid = creds.unpack(conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, creds.size))[0]
            if pid == parent:
                return conn
            conn.close()  # not the front end that started this process
    finally:
        listener.close()
        try:
            os.unlink(path)
        except OSError:
            pass


def main():
    args = globals().get("_wsgi_host_args") or sys.argv[1:]
    if args and args[0] == "probe":
        probe(json.loads(args[1]) if len(args) > 1 else {})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.environ.pop("WSGI_HOST_WATCH_STDIN", "") == "1":
        # First: a front end that dies before it connects must not leave this process waiting.
        threading.Thread(target=_watch_parent, name="wsgi-host-parent-watch", daemon=True).start()
    try:
        sock = connect_front_end()
    except OSError as e:
        sys.stderr.write("wsgi-host worker: cannot reach the front end (%s);"
                         " this program is started by wsgi-host, not by hand\n" % (e,))
        return 2
    try:
        import faulthandler
        faulthandler.register(signal.SIGUSR2, file=sys.__stderr__, all_threads=True, chain=False)
    except Exception:
        pass
    conn = Connection(sock)
    try:
        config = conn.read_init()
    except ConnectionLost:
        return 0
    conn.request_window = int(config["requestWindow"])
    conn.log_threshold = int(config.get("logLevel", 0))
    conn.spin_budget = float(config.get("spinBudget", SPIN_BUDGET))
    conn.response_window = int(config["responseWindow"])
    worker = Worker(conn, config)

    def on_term(signum, frame):
        # No locks here: the main thread may hold them when the signal arrives.
        conn.shutting_down = True
        if not conn.requests:
            shutdown_now(0)

    signal.signal(signal.SIGTERM, on_term)
    if config.get("displayName"):
        set_process_name(config["displayName"])
    sys.stdout = worker.stdout
    sys.stderr = worker.stderr
    install_logging_bridge(worker)
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
    worker.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
