"""One request's channel to the front end: what arrived for it (its head, body chunks, credit,
CANCEL, RECALL, FILE_DONE, filled in by the hub's reader) and every frame this worker sends for it,
on its own connection. The WSGI code (wsgi.py, serve.py) calls these methods; it never builds a
frame itself.

design: a Channel is made by the reader thread when the REQUEST frame arrives and is taken by one
handling thread (Hub.next_request sets cond, that thread's condition on the hub's lock, which is
also conn.lock). Its state is written under that lock, except what only the handling thread
touches: credit before the response's first frame (no CREDIT can arrive before it) and the
response-side methods, which only that thread calls.
"""

import json
from collections import deque

import struct

from .wire import (
    F_ABORT, F_CONTINUE, F_END, F_NOT_STARTED, FILE_ABORTED, HEADER, RESPONSE_PREFIX,
    T_CREDIT, T_DATA, T_FILE, T_RESPONSE, U32,
)

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
# A RESPONSE frame's header and the start of its payload (status, head length), packed at once.
RESPONSE_START = struct.Struct(HEADER.format + RESPONSE_PREFIX.format.lstrip("<>!=@"))
_pack_response = RESPONSE_START.pack
_pack_header = HEADER.pack
_PREFIX_SIZE = RESPONSE_PREFIX.size
# A body at least this large is sent by sendmsg beside its frame header, never copied into one buffer.
SEND_UNJOINED = 64 * 1024


class ClientDisconnected(OSError):
    """Raised inside the application when its client has gone away (request cancelled)."""


class Channel(object):
    __slots__ = (
        "conn", "cond", "id", "head", "flags", "chunks", "body_done", "cancelled", "credit",
        "continue_pending", "unacked", "file_result", "recalled",
    )

    def __init__(self, conn, rid, head, flags, credit):
        self.conn = conn
        self.cond = None  # the handling thread's condition (set when a thread takes the request)
        self.id = rid
        self.head = head
        self.flags = flags
        self.chunks = None if flags & F_END else deque()  # no body: nothing will arrive
        self.body_done = bool(flags & F_END)
        self.cancelled = False
        self.credit = credit
        self.continue_pending = bool(flags & F_CONTINUE)
        self.unacked = 0
        self.file_result = None
        self.recalled = False

    # -- the request body ----------------------------------------------------------------------

    def read_body(self):
        """Next chunk of the request body; b'' at its end. Grants credit as it is consumed."""
        conn = self.conn
        grant = 0
        with conn.lock:
            if self.continue_pending:
                self.continue_pending = False
                grant = conn.request_window
            if not self.chunks and not self.body_done and not self.cancelled:
                if grant:
                    conn.lock.release()
                    try:
                        conn.frame(T_CREDIT, self.id, 0, U32.pack(grant))
                    finally:
                        conn.lock.acquire()
                    grant = 0
                conn.wait_until(lambda: self.chunks or self.body_done or self.cancelled, self.cond)
            if self.chunks:
                chunk = self.chunks.popleft()
                self.unacked += len(chunk)
                if self.unacked * 2 >= conn.request_window and not self.body_done:
                    grant += self.unacked
                    self.unacked = 0
            elif self.cancelled:
                raise ClientDisconnected("the client closed the connection")
            else:
                chunk = b""
        if grant:
            conn.frame(T_CREDIT, self.id, 0, U32.pack(grant))
        return chunk

    # -- the response --------------------------------------------------------------------------

    def respond(self, head, body, end):
        """A whole response: its head (status code, latin-1 head) and its body, in one write when
        the credit allows. end: its last frame (else the caller ends it, e.g. aborts it)."""
        code, text = head
        n = len(body)
        if n <= self.credit:
            self.credit -= n
            flags = F_END if end else 0
            h = len(text)
            if n <= INLINE_BODY:
                self.conn.send(b"".join((_pack_response(_PREFIX_SIZE + h + n, self.id, T_RESPONSE, flags, code, h),
                                         text, body)))
            else:
                # A larger body follows as DATA, in the same write: the front end streams DATA
                # straight through instead of assembling a large frame split across its reads.
                self.conn.send_parts((_pack_response(_PREFIX_SIZE + h, self.id, T_RESPONSE, 0, code, h), text,
                                      _pack_header(n, self.id, T_DATA, flags), body))
        else:
            self.start(head)
            self.send(body)
            if end:
                self.end()

    def start(self, head, end=False):
        """The RESPONSE frame: the head (status code, latin-1 head); end: the response has no body."""
        code, text = head
        h = len(text)
        self.conn.send(_pack_response(_PREFIX_SIZE + h, self.id, T_RESPONSE, F_END if end else 0, code, h) + text)

    def send(self, data):
        """Body bytes as DATA frames, each within the credit the front end granted (waiting for
        more when it is used up)."""
        conn = self.conn
        total = len(data)
        lock = conn.lock
        lock.acquire()
        if total <= self.credit and not self.cancelled:
            # Within the credit already granted: one frame, one write.
            self.credit -= total
            lock.release()
            if total < SEND_UNJOINED:
                conn.send(_pack_header(total, self.id, T_DATA, 0) + data)
            else:
                conn.send_data(_pack_header(total, self.id, T_DATA, 0), data)
            return
        lock.release()
        view = memoryview(data)
        off = 0
        while off < total:
            if self.cancelled:
                raise ClientDisconnected("the client closed the connection")
            n = self._take_credit(total - off)
            conn.send_parts((_pack_header(n, self.id, T_DATA, 0), view[off:off + n]))
            off += n

    def _take_credit(self, want):
        conn = self.conn
        with conn.lock:
            if self.credit <= 0 and not self.cancelled:
                conn.wait_until(lambda: self.credit > 0 or self.cancelled, self.cond)
            if self.cancelled:
                raise ClientDisconnected("the client closed the connection")
            n = want if want < self.credit else self.credit
            self.credit -= n
            return n

    def end(self):
        """The response's last frame: it is complete."""
        self.conn.frame(T_DATA, self.id, F_END)

    def abort(self):
        """The response's last frame: it failed (or was cancelled)."""
        self.conn.frame(T_DATA, self.id, F_END | F_ABORT)

    def decline(self):
        """The last frame of a request never started: cancelled, or recalled by the front end to
        run elsewhere (NOT_STARTED)."""
        flags = F_END | F_ABORT | (F_NOT_STARTED if self.recalled and not self.cancelled else 0)
        self.conn.frame(T_DATA, self.id, flags)

    def fail(self, head_only):
        """A 500 for an application that failed before its response started."""
        self.conn.frame(T_RESPONSE, self.id, F_END, ERROR_PREFIX if head_only else ERROR_PREFIX + ERROR_BODY)

    def offer_file(self, fd, offset, length):
        """Offer the front end one of this process's descriptors to send itself (FILE), and wait
        for its answer: FILE_SENT, FILE_REFUSED or FILE_ABORTED."""
        offer = json.dumps({"fd": fd, "offset": offset, "length": length})
        conn = self.conn
        conn.frame(T_FILE, self.id, 0, offer.encode("utf-8"))
        with conn.lock:
            conn.wait_until(lambda: self.file_result is not None or self.cancelled, self.cond)
            return FILE_ABORTED if self.file_result is None else self.file_result

    def log(self, level, text):
        self.conn.log(level, self.id, text)
