"""WSGI's rules for responses (PEP 3333): start_response, the status and headers, write(), the
body's length, wsgi.file_wrapper and wsgi.errors. What to send goes to the request's channel
(channel.py); this module never builds a frame. (~330 lines: Response is one class, PEP 3333's
response rules in the order an application meets them.)"""

import os
import stat

from .channel import ClientDisconnected
from .wire import FILE_REFUSED, FILE_SENT, LOG_ERROR, LOG_WARNING

try:
    import fcntl
except ImportError:  # not on Unix: no file offload
    fcntl = None

# Status codes whose responses have no body (1xx final statuses are refused by encode_head).
NO_BODY_CODES = frozenset(["204", "304"])


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
# Statuses encode_head accepted, as (code, reason, no body): an application's status is usually
# the same few strings, checked once each. Bounded: past this many, new ones are checked every time.
_STATUSES = {}
_STATUSES_MAX = 256


def _warn_once(ch, key, text):
    if key not in _warned:
        _warned.add(key)
        ch.log(LOG_WARNING, text + " (said once per process)")


class AppError(Exception):
    """The application broke a WSGI rule; the message says which."""


def encode_head(status, headers, extra):
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
        head = text.encode("latin-1")
    except UnicodeEncodeError:
        raise AppError("response headers must be latin-1 text (PEP 3333): %r" % (headers,))
    code = int(status[:3])
    if type(status) is str and len(_STATUSES) < _STATUSES_MAX and "\0" not in status:
        _STATUSES[status] = (code, status[4:], status[:3] in NO_BODY_CODES)
    return code, head


def fast_head(status, headers, body_length):
    """The common case of a response head, in one pass: (code, head, declared Content-Length or
    None), or None when anything is unusual (a status not seen before, headers that are not a
    list of (str, str), a Content-Length that is not a plain number or comes twice, a hop-by-hop
    header, a NUL, non-latin-1 text...): the caller then takes the careful path (_declared_length,
    encode_head), which handles those or names the application's mistake. body_length: the whole
    body's length when known (a Content-Length is added when the application set none)."""
    if type(status) is not str:
        return None
    known = _STATUSES.get(status)
    if known is None or type(headers) is not list:
        return None
    code, reason, no_body = known
    fields = [reason]
    append = fields.append
    declared = None
    try:
        for name, value in headers:
            n = len(name)
            if n == 14 and name.lower() == "content-length":
                if declared is not None:
                    return None
                declared = int(value.strip())
                if declared < 0:
                    return None
            elif n in HOP_BY_HOP_LENGTHS and name.lower() in HOP_BY_HOP:
                return None
            append(name)
            append(value)
        if declared is None and body_length is not None and not no_body:
            append("Content-Length")
            append(str(body_length))
        text = "\0".join(fields)
        if text.count("\0") != len(fields) - 1:
            return None
        return code, text.encode("latin-1"), declared
    except Exception:
        return None


class Response(object):
    """start_response, write() and the streaming of one response."""

    __slots__ = ("ch", "status", "headers", "head_sent", "declared", "sent", "head_only", "bodyless", "ended")

    def __init__(self, ch, head_only):
        self.ch = ch
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
                    _warn_once(self.ch, "hop-by-hop:" + lower,
                               "the application sent the hop-by-hop header %s, which PEP 3333 forbids "
                               "applications to send; wsgi-host dropped it and frames the response itself"
                               % (name,))
                continue
            kept.append((name, value))
        return kept

    def _head(self, body_length):
        """The response head as the channel sends it, (status code, latin-1 head); body_length is
        the whole body's length when known."""
        if self.status is None:
            raise AppError("the application returned a body without calling start_response()")
        fast = fast_head(self.status, self.headers, body_length)
        if fast is None:
            return self._prefix(self._declared_length(), body_length)
        code, head, self.declared = fast
        self.bodyless = self.head_only or code == 204 or code == 304
        self.head_sent = True
        return code, head

    def _prefix(self, declared, body_length):
        """The response head (status code, latin-1 head), given the application's Content-Length
        (_declared_length())."""
        self.declared = declared
        no_body = type(self.status) is str and self.status[:3] in NO_BODY_CODES
        extra = None
        if declared is None and body_length is not None and not no_body:
            extra = ("Content-Length", str(body_length))
        status, head = encode_head(self.status, self.headers, extra)
        self.bodyless = self.head_only or no_body
        self.head_sent = True
        return status, head

    def complete(self, body):
        """Send the whole response at once (the application returned a list)."""
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
        self.ch.respond(prefix, body, not short)
        self.sent = len(body)
        if short:
            self._short()
        else:
            self.ended = True

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
            self.ch.start(self._head(None))
        if not data:
            return
        if self.declared is not None:
            room = self.declared - self.sent
            if room <= 0:
                return
            if len(data) > room:
                data = data[:room]
        if not self.bodyless:
            self.ch.send(data)
        self.sent += len(data)

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
        self.ch.end()

    def abort(self):
        """The response's last frame: it failed (or was cancelled). Nothing when it ended already."""
        if not self.ended:
            self.ended = True
            self.ch.abort()

    def _short(self):
        self.ch.log(LOG_ERROR, "the application declared Content-Length: %d but produced %d bytes; "
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
        ch = self.ch
        if self.bodyless or length == 0:
            if declared and not self.bodyless:
                # Nothing to send, yet a length was declared: a response cut short.
                ch.start(prefix)
                self._short()
                return True
            self.ended = True
            ch.start(prefix, True)
            return True
        ch.start(prefix)
        result = ch.offer_file(fd, offset, length)
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
                ch.send(block)
                self.sent += len(block)
                remaining -= len(block)
            self.finish()
        else:
            raise ClientDisconnected("the client closed the connection")
        return True
