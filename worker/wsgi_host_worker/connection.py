"""One connection to the front end: reaching it, its socket, its read buffer and the frames read
from it, its requests by id, and coalesced writing. What the connections of a process share (the
lock, the queue of requests, the waiting threads and the reader's role) is the hub's (hub.py).

design: writes go out whole under the connection's own write lock. The hub's reader calls
read_frames: blocking (the primary alone: an idle worker may spin briefly on a non-blocking read
before it sleeps, SPIN_BUDGET) or without blocking. A large DATA payload is read straight into
its own bytes object (bulk). (~300 lines: the read buffer's
states are read together.)
"""

import json
import os
import socket
import struct
import threading
import time

from .channel import Channel
from .hub import ConnectionLost, Hub
from .wire import (
    F_END, FILE_ABORTED, HEADER, HEADER_SIZE, READ_BUFFER, T_CANCEL, T_CREDIT, T_DATA,
    T_FILE_DONE, T_INIT, T_LOG, T_RECALL, T_REQUEST, T_SHUTDOWN, U32,
)

__all__ = ["Connection", "ConnectionLost", "SPIN_BUDGET", "connect_front_end", "from_parent"]

# Adaptive busy-polling: an idle worker spins this long (seconds) on a non-blocking read before it
# sleeps, but only while the recent average wait for a request is shorter than that. Waking a
# sleeping process costs tens of microseconds on virtual machines; a closed-loop client saves that
# on every request, while light or bursty traffic never spins.
SPIN_BUDGET = 0.0003
# A DATA payload at least this large makes the reader go "bulk": while the read buffer is empty, it
# reads the next frame's header alone and a large DATA payload straight into its own bytes object
# (sock.recv), which wsgi.input hands to the application as it is: no copy out of the read buffer.
BULK_DATA = 32 * 1024
_monotonic = time.monotonic
_unpack_header = HEADER.unpack_from
SEND_JOIN_LIMIT = 64 * 1024
_MSG_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_MSG_WAITALL = getattr(socket, "MSG_WAITALL", 0)


class Connection(object):
    def __init__(self, sock, hub=None):
        """hub: the process's (None: a new one, this connection its primary)."""
        if hub is None:
            hub = Hub()
        self.hub = hub
        self.sock = sock
        self.lock = hub.lock  # one lock for every connection of the process
        self.pending = hub.pending
        self.wlock = threading.Lock()
        self.rbuf = bytearray(READ_BUFFER)
        self.rview = memoryview(self.rbuf)
        self.rstart = 0
        self.rend = 0
        self.read_at = 0.0  # when the last read returned bytes (time.monotonic)
        self.bulk = False  # reading large DATA payloads straight into their own bytes (BULK_DATA)
        self.closed = False  # (an extra connection) ended: hub.end
        self.shutting_down = False
        self.ending = False  # SHUTDOWN came, or closed: done() looks closer
        self.requests = {}  # this connection's requests by id, from REQUEST to done
        self.response_window = 0
        self.request_window = 0
        self.spin_budget = SPIN_BUDGET
        self.log_threshold = 0  # lines below this level (the front end's --log-level) are not sent
        self.wait_average = 1.0  # recent average wait for a request while idle (seconds)
        self.gate = False  # (the primary, once a listener exists) idle, it waits on hub.gate_wait
        self.next_request = hub.next_request
        self.done = hub.done  # a request of this connection ended (bound here: no call in between)
        hub.add(self)

    # -- writing ------------------------------------------------------------------------------

    def send(self, data):
        wlock = self.wlock
        wlock.acquire()
        try:
            self.sock.sendall(data)
        except OSError:
            raise ConnectionLost()
        finally:
            wlock.release()

    def send_parts(self, parts):
        """Send several buffers as one write, without copying large ones."""
        total = 0
        for p in parts:
            total += len(p)
        if total <= SEND_JOIN_LIMIT:
            self.send(b"".join(parts))
            return
        self._sendmsg([memoryview(p).cast("B") for p in parts if len(p)], total)

    def send_data(self, header, data):
        """A frame header and a large payload (bytes or a memoryview) in one sendmsg, uncopied."""
        self._sendmsg([header, data], len(header) + len(data))

    def _sendmsg(self, views, total):
        wlock = self.wlock
        wlock.acquire()
        try:
            sent = self.sock.sendmsg(views[:512])
            while sent < total:
                # A short write (the socket buffer filled): drop what went, send the rest.
                total -= sent
                while sent:
                    n = len(views[0])
                    if sent >= n:
                        sent -= n
                        views.pop(0)
                    else:
                        views[0] = memoryview(views[0]).cast("B")[sent:]
                        sent = 0
                sent = self.sock.sendmsg(views[:512])
        except OSError:
            raise ConnectionLost()
        finally:
            wlock.release()

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

    def read_frames(self, idle=False, wait=True):
        """Block until at least one whole frame is buffered; return the frames (None at EOF). A
        REQUEST frame's payload is its head decoded (latin-1 text); the others' are bytes.
        idle: no request is running, so this read may spin before it sleeps (SPIN_BUDGET).
        wait=False: return what can be read without blocking ([] when nothing).
        With a gate (the primary alone, a listener open), a blocking read that has waited
        IDLE_GATE (its receive timeout) then waits on the hub's gate, and returns [] when the gate
        was woken (a connection was added)."""
        frames = []
        sock = self.sock
        while True:
            buf = self.rbuf
            start = self.rstart
            end = self.rend
            while end - start >= HEADER_SIZE:
                length, rid, ftype, flags = _unpack_header(buf, start)
                stop = start + HEADER_SIZE + length
                if stop > end:
                    break
                if ftype == T_REQUEST:
                    frames.append((ftype, rid, flags, buf[start + HEADER_SIZE:stop].decode("latin-1")))
                else:
                    if ftype == T_DATA and length >= BULK_DATA:
                        self.bulk = True
                    frames.append((ftype, rid, flags, bytes(self.rview[start + HEADER_SIZE:stop])))
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
            want = 0  # read at most this much (0: as much as fits)
            if end >= HEADER_SIZE:
                need = HEADER_SIZE + _unpack_header(buf, 0)[0]
                if need > len(buf):
                    grown = bytearray(need)
                    grown[:end] = buf[:end]
                    buf = self.rbuf = grown
                    self.rview = memoryview(grown)
                if self.bulk:
                    want = need - end  # the rest of this frame only: what follows is read uncopied
            elif self.bulk:
                want = HEADER_SIZE - end
            if end == 0 and len(buf) > READ_BUFFER:
                buf = self.rbuf = bytearray(READ_BUFFER)
                self.rview = memoryview(buf)
            try:
                if not wait:
                    n = sock.recv_into(self.rview[end:], 0, _MSG_DONTWAIT)
                elif idle and self.spin_budget:
                    n = self._spin_read(self.rview[end:])
                elif self.bulk:
                    if end == 0:
                        got = self._read_bulk()
                        if got is None or got:
                            return got
                        continue
                    n = sock.recv_into(self.rview[end:end + want], want, _MSG_WAITALL)
                else:
                    n = sock.recv_into(self.rview[end:])
            except InterruptedError:
                continue
            except BlockingIOError:
                # Without blocking: nothing more. Blocking: the primary's receive timeout (a
                # listener is open, IDLE_GATE): idle that long, it now waits on the gate.
                if wait and self.gate and not self.hub.gate_wait():
                    continue
                return frames
            except OSError:
                n = 0
            if n == 0:
                return None
            self.read_at = _monotonic()
            self.rend = end + n

    def _read_bulk(self):
        """(read buffer empty, bulk) The next frame's header alone; a large DATA payload then goes
        straight into its own bytes object. Any other frame ends the bulk reading: it is left in
        the buffer for _read_frames. Returns the frames read (None at EOF)."""
        sock = self.sock
        try:
            n = sock.recv_into(self.rview[:HEADER_SIZE], HEADER_SIZE, _MSG_WAITALL)
        except (BlockingIOError, InterruptedError):
            raise  # nothing read (the receive timeout): read_frames waits on
        except OSError:
            return None
        try:
            self.read_at = _monotonic()
            if n < HEADER_SIZE:
                self.bulk = False
                self.rend = n
                return None if n == 0 else []
            length, rid, ftype, flags = _unpack_header(self.rbuf, 0)
            if ftype != T_DATA or length < BULK_DATA:
                self.bulk = False
                self.rend = n
                return []
            try:
                payload = sock.recv(length, _MSG_WAITALL)
            except (BlockingIOError, InterruptedError):
                payload = b""  # the receive timeout: this frame has started, its payload follows
            if len(payload) < length:
                # Cut short (a signal, the receive timeout, or the front end went away): gather
                # the rest.
                parts = [payload]
                got = len(payload)
                while got < length:
                    try:
                        more = sock.recv(length - got, _MSG_WAITALL)
                    except (BlockingIOError, InterruptedError):
                        continue
                    if not more:
                        return None
                    parts.append(more)
                    got += len(more)
                payload = b"".join(parts)
        except OSError:
            return None
        return [(T_DATA, rid, flags, payload)]

    def _spin_read(self, view):
        sock = self.sock
        started = _monotonic()
        n = -1
        if self.wait_average < self.spin_budget:
            deadline = started + self.spin_budget
            while True:
                try:
                    n = sock.recv_into(view, 0, _MSG_DONTWAIT)
                    break
                except BlockingIOError:
                    if _monotonic() > deadline:
                        break
        if n < 0:
            try:
                n = sock.recv_into(view)
            except BlockingIOError:  # the receive timeout: idle
                self.wait_average += (_monotonic() - started - self.wait_average) * 0.25
                raise
        waited = _monotonic() - started
        self.wait_average += (waited - self.wait_average) * 0.25
        return n

    _read_frames = read_frames

    def wait_until(self, pred, cond):
        """Wait (the hub's lock held) until pred() is true, reading if no other thread is; a
        request of this connection waits so (ConnectionLost when the connection ends)."""
        self.hub.wait_until(pred, cond, self)

    def dispatch(self, frame):
        """(the hub's lock held) A frame other than REQUEST and SHUTDOWN (the hub's), read from this
        connection: to its request."""
        ftype, rid, flags, payload = frame
        req = self.requests.get(rid)
        if req is None:
            return
        if ftype == T_DATA:
            if payload and req.chunks is not None:
                req.chunks.append(payload)
            if flags & F_END:
                req.body_done = True
        elif ftype == T_CREDIT:
            req.credit += U32.unpack_from(payload, 0)[0]
        elif ftype == T_CANCEL:
            req.cancelled = True
        elif ftype == T_RECALL:
            req.recalled = True  # honoured only if no thread has started it
        elif ftype == T_FILE_DONE:
            req.file_result = payload[0] if payload else FILE_ABORTED

    def _dispatch(self, frame):
        """Any frame read from this connection (REQUEST and SHUTDOWN included), with the hub's lock
        held or no thread serving: bench/codec.py decodes through it."""
        ftype, rid, flags, payload = frame
        if ftype == T_REQUEST:
            req = Channel(self, rid, payload, flags, self.response_window)
            self.requests[rid] = req
            self.hub.pending.append(req)
        elif ftype == T_SHUTDOWN:
            self.shutting_down = self.ending = True
        else:
            self.dispatch(frame)


def connect_front_end():
    """The connection to the front end, and the listener for its extra connections (or None).
    On Linux the front end names a unix socket path in its private runtime folder
    (WSGI_HOST_SOCKET): this process listens there and accepts only its parent (checked with
    SO_PEERCRED). The first connection is the primary one; the listener stays open and the path
    stays in place, for the extra connections each front-end event loop opens once this process is
    READY (extra.py). A process of another user (user=) gets the listener already bound, as a
    descriptor (WSGI_HOST_SOCKET_FD), from the root launcher that started it. The front end reads
    a connection into one reused buffer, much faster than a stdio pipe. Otherwise fd 3 is a
    socketpair, and there are no extra connections."""
    path = os.environ.pop("WSGI_HOST_SOCKET", "")
    bound = os.environ.pop("WSGI_HOST_SOCKET_FD", "")
    if bound:
        # Bound and listening already: the launcher did it as root before switching to this
        # process's user (worker-launch.ts), so the path is in a folder this user cannot change.
        listener = socket.socket(fileno=int(bound))
        listener.set_inheritable(False)
    elif path:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        return socket.socket(fileno=3), None
    try:
        if not bound:
            listener.bind(path)
            listener.listen(64)
        while True:
            conn, _ = listener.accept()
            if from_parent(conn):
                return conn, listener
            conn.close()  # not the front end that started this process
    except BaseException:
        listener.close()
        raise


_CREDS = struct.Struct("3i")


def from_parent(conn):
    """Whether the peer of an accepted unix socket is the process that started this one."""
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDS.size)
    except OSError:
        return False
    return _CREDS.unpack(creds)[0] == os.getppid()
