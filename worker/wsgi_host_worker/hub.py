"""The hub: what every connection of the process shares. One lock, one queue of requests waiting
for a thread, one list of waiting threads and one reader's role for all the connections, so that
`threads` threads serve every connection (no thread of its own per connection: two threads with
work at once fight over the GIL, each waiting up to the switch interval for the other).

design (leader/follower over every connection): a thread that waits for anything (a request, body
bytes, credit, a FILE_DONE) reads if no other thread is reading; otherwise it sleeps on its
condition and the reader wakes it when what it waits for arrived, or hands it the reader's role.
With the primary connection alone the reader reads it as connection.py always did (a blocking
read, the adaptive spin, bulk reads); once a listener exists, a read that got nothing for
IDLE_GATE (the primary's receive timeout) then waits on a poll over the primary and the wake-up
pipe (the gate), so that an extra connection accepted while the primary is idle is served within
IDLE_GATE, with nothing added to a busy primary's reads. With several connections it polls every one and the
wake-up pipe, and reads each readable one without blocking (a bulk DATA frame that has started to
arrive is read whole). Per connection: its socket, read buffer, requests by id and windows
(connection.py). A connection's descriptor is closed only under the lock, with no request of it
left and no poll over it running, so that its number is never reused while something could still
use it.
"""

import os
import select
import socket
import struct
import threading
import time
from collections import deque

from .channel import Channel
from .wire import T_REQUEST, T_SHUTDOWN

# Before a thread starts a request that waited inside this process, it reads (without blocking)
# what else arrived, so that a CANCEL or RECALL for it is seen first; but not when the last read
# of its connection was more recent than this (seconds): a burst of requests read together is
# then served without a failed read per request (a request recalled or cancelled within that time
# just runs, and the front end handles its answer as it does for one that had started).
POLL_AFTER = 0.0001
# Once a listener is open, a blocking read of the primary alone that got nothing for this long
# (seconds: its SO_RCVTIMEO) waits on a poll over the primary and the wake-up pipe instead: a
# connection accepted while the primary is idle is read within this time at most.
IDLE_GATE = 0.02
_monotonic = time.monotonic


class ConnectionLost(Exception):
    """The front end went away (on the connection the raising thread was using)."""


def _waiting(listener):
    """Whether a connection waits in the listener's backlog."""
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    try:
        return any(events & select.POLLIN for _, events in poller.poll(0))
    except OSError:
        return False


class Hub(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.primary = None  # the first connection added: INIT came on it
        self.conns = []  # the connections open (the primary first)
        self.single = None  # the primary when it is the only connection open, else None
        self.version = 0  # bumped when conns changes (the reader rebuilds its poll set)
        self.listener = None  # where extra connections arrive (None: none will)
        self.reading = False
        self.polling = False  # the reader polls several connections (their descriptors stay open)
        self.pending = deque()  # requests read and not yet taken by a thread, from every connection
        self.waiters = []
        self.running = 0  # requests being handled by a thread
        self.draining = False  # the primary got SHUTDOWN (or SIGTERM): exit once all_done()
        self.lost = False  # end of file on the primary: every thread leaves
        self.broken = False  # lost, or a connection ended: waiting threads look closer
        self.to_close = []  # connections ended while the reader polled: closed after its poll
        self.spin_budget = 0.0
        self.wait_average = 1.0  # (several connections) recent average wait while idle (seconds)
        self.wake_r = self.wake_w = -1
        self.poller = None
        self.by_fd = {}
        self.polled = -1  # the version the poll set was built for
        self._has_work = lambda: self.pending or (self.draining and self.all_done())

    # -- the connections ------------------------------------------------------------------------

    def add(self, conn):
        """(lock held, or before any thread serves) Serve conn too; wake the reader."""
        conns = self.conns
        if self.primary is None:
            self.primary = conn
        conns.append(conn)
        self.version += 1
        self.single = conns[0] if len(conns) == 1 else None
        if self.wake_w >= 0:
            try:
                os.write(self.wake_w, b"\0")
            except OSError:
                pass  # full: a wake-up is pending anyway

    def listen(self, listener):
        """Extra connections may arrive from now on (extra.py adds them): make the wake-up pipe, and
        give the primary its gate."""
        self.listener = listener
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        self.wake_r, self.wake_w = r, w
        gate = select.poll()
        primary = self.primary
        gate.register(primary.sock, select.POLLIN)
        gate.register(r, select.POLLIN)
        self._gate_poll = gate.poll
        # A blocking read of the primary returns after IDLE_GATE without a byte (EAGAIN), and only
        # then waits on the gate: the read path of a busy primary is the same as without a
        # listener, and an idle worker does not wake up periodically.
        sec = int(IDLE_GATE)
        primary.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                struct.pack("@ll", sec, int((IDLE_GATE - sec) * 1e6)))
        primary.gate = True

    def gate_wait(self):
        """(the reader, the primary alone, idle for IDLE_GATE) Wait until the primary is readable
        (False) or a wake-up came: a connection was added (True)."""
        woken = False
        for fd, _ in self._gate_poll():
            if fd == self.wake_r:
                woken = True
        if woken:
            self._drain_wake()
        return woken

    def _drain_wake(self):
        try:
            os.read(self.wake_r, 4096)
        except OSError:
            pass

    def end(self, conn):
        """(lock held) conn (an extra connection) is over: end of file, an error, or SHUTDOWN with
        nothing left. Its requests not started are dropped; the threads waiting on it raise
        ConnectionLost; its peer sees end of file; its descriptor is closed once no request of it
        is left and no poll over it is running."""
        if conn.closed:
            return
        conn.closed = True
        conn.ending = True
        self.broken = True
        conns = self.conns
        conns.remove(conn)
        self.version += 1
        self.single = conns[0] if len(conns) == 1 else None
        pending = self.pending
        if pending:
            kept = [r for r in pending if r.conn is not conn]
            if len(kept) != len(pending):
                for r in pending:
                    if r.conn is conn:
                        conn.requests.pop(r.id, None)
                pending.clear()
                pending.extend(kept)
        for c, _ in self.waiters:
            c.notify()
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)  # wakes a poll on it; sends on it fail from now on
        except OSError:
            pass
        self._release(conn)

    def _release(self, conn):
        """(lock held, conn ended) Close its descriptor when nothing can use it any more."""
        if conn.requests:
            return  # the last of them closes it (done)
        if self.polling:
            self.to_close.append(conn)  # in the poll set the reader is waiting on
        else:
            conn.sock.close()

    def _close_ended(self):
        """(lock held, after a poll) Close what ended while the reader polled."""
        for conn in self.to_close:
            conn.sock.close()
        del self.to_close[:]

    def all_done(self):
        """(lock held) The process may exit: the primary got SHUTDOWN, and every connection still
        open got SHUTDOWN and has no request left (one still waiting in the listener's backlog
        counts as open; extra.py accepts under the lock)."""
        if not self.primary.shutting_down:
            return False
        for conn in self.conns:
            if conn.requests or not conn.shutting_down:
                return False
        return self.listener is None or not _waiting(self.listener)

    # -- reading --------------------------------------------------------------------------------

    def wait_until(self, pred, cond, conn=None, idle=False):
        """Wait (lock held) until pred() is true, reading if no other thread is. conn: the
        connection whose request waits (ConnectionLost when it ends)."""
        while not pred():
            if self.broken and (self.lost or (conn is not None and conn.closed)):
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
            single = self.single
            if single is None:
                self._round(idle, True, pred)
                continue
            self.lock.release()
            try:
                frames = single.read_frames(idle)
            finally:
                self.lock.acquire()
                self.reading = False
            if frames is None or frames or self.waiters:
                self._after_read(single, frames, pred)

    def poll(self):
        """(lock held) Read and dispatch whatever frames already arrived, without blocking: a
        CANCEL or RECALL for a waiting request is seen before that request is started."""
        if self.reading:
            return
        self.reading = True
        single = self.single
        if single is None:
            self._round(False, False, None)
            return
        self.lock.release()
        try:
            frames = single.read_frames(wait=False)
        finally:
            self.lock.acquire()
            self.reading = False
        if frames is None or frames:
            self._after_read(single, frames)

    def _round(self, idle, wait, pred):
        """(lock held, the reader's role taken; several connections) Poll them, read the readable
        ones and dispatch what came."""
        if self.polled != self.version:
            self._rebuild()
        self.polling = True
        self.lock.release()
        try:
            got = self._read_all(idle, wait)
        finally:
            self.lock.acquire()
            self.reading = False
            self.polling = False
        if self.to_close:
            self._close_ended()
        self._after_read_all(got, pred)

    def _rebuild(self):
        """(lock held, reading) The poll set: every open connection and the wake-up pipe."""
        poller = select.poll()
        by_fd = {}
        for conn in self.conns:
            fd = conn.sock.fileno()
            by_fd[fd] = conn
            poller.register(fd, select.POLLIN)
        if self.wake_r >= 0:
            poller.register(self.wake_r, select.POLLIN)
        self.poller = poller
        self.by_fd = by_fd
        self.polled = self.version

    def _read_all(self, idle, wait):
        """(the reader, several connections; lock not held) Poll them all (blocking if wait, after
        a spin if idle) and read each readable one. Returns [(connection, frames or None)]."""
        poll = self.poller.poll
        events = None
        if wait:
            if idle and self.spin_budget and self.wait_average < self.spin_budget:
                started = _monotonic()
                deadline = started + self.spin_budget
                while True:
                    events = poll(0)
                    if events or _monotonic() > deadline:
                        break
            if not events:
                started = _monotonic()
                events = poll()
                if idle:
                    self.wait_average += (_monotonic() - started - self.wait_average) * 0.25
        else:
            events = poll(0)
        got = []
        by_fd = self.by_fd
        for fd, _ in events:
            conn = by_fd.get(fd)
            if conn is None:
                self._drain_wake()
            else:
                # Readable: without blocking; or, reading bulk DATA, blocking for one frame (its
                # first bytes came; the front end sends a frame whole).
                got.append((conn, conn.read_frames(False, conn.bulk)))
        return got

    def _take(self, conn, frames):
        """(lock held) Dispatch what the reader read from conn. Returns False at the primary's end
        of file."""
        if frames is None:
            if conn is self.primary:
                self.lost = self.broken = True
                for c, _ in self.waiters:
                    c.notify()
                return False
            self.end(conn)
            return True
        if conn.closed:
            return True  # ended while this was read: nothing of it is served any more
        pending = self.pending
        requests = conn.requests
        for f in frames:
            if f[0] == T_REQUEST:
                rid = f[1]
                req = Channel(conn, rid, f[3], f[2], conn.response_window)
                requests[rid] = req
                pending.append(req)
            elif f[0] == T_SHUTDOWN:
                conn.shutting_down = conn.ending = True
                if conn is self.primary:
                    self.draining = True
                elif not requests:
                    self.end(conn)  # drained: the peer sees end of file
                    return True
            else:
                conn.dispatch(f)
        return True

    def _after_read(self, conn, frames, pred=None):
        """Dispatch what the reader read from conn, the primary alone (lock held), and wake the
        threads it concerns. pred: the reader's own condition; when it holds (or there is none)
        the reader stops reading, so a thread still waiting takes over that role."""
        if frames is None:
            self._take(conn, None)
            raise ConnectionLost()  # the primary's end of file
        else:
            # _take's loop, inline: the primary alone comes here for every read.
            pending = self.pending
            requests = conn.requests
            for f in frames:
                if f[0] == T_REQUEST:
                    rid = f[1]
                    req = Channel(conn, rid, f[3], f[2], conn.response_window)
                    requests[rid] = req
                    pending.append(req)
                elif f[0] == T_SHUTDOWN:
                    self._take(conn, [f])
                else:
                    conn.dispatch(f)
        if self.waiters:
            self._wake(pred)

    def _after_read_all(self, got, pred=None):
        lost = False
        for conn, frames in got:
            if not self._take(conn, frames):
                lost = True
        if lost:
            raise ConnectionLost()
        if self.waiters:
            self._wake(pred)

    def _wake(self, pred):
        """(lock held, waiters) Wake the waiters whose condition holds; hand the reader's role on."""
        waiters = self.waiters
        leaving = pred is None or pred()
        successor = None
        for c, p in waiters:
            if p():
                c.notify()
            elif successor is None:
                successor = c
        if leaving and successor is not None:
            successor.notify()  # hand the reader's role to a thread still waiting

    # -- the requests -------------------------------------------------------------------------

    def next_request(self, cond):
        """The next request's Channel, from any connection, for the thread whose condition is cond
        (None: the process may exit, all_done)."""
        lock = self.lock
        lock.acquire()
        try:
            pending = self.pending
            if pending and _monotonic() - pending[0].conn.read_at > POLL_AFTER:
                self.poll()
            while True:
                if pending:
                    self.running += 1
                    req = pending.popleft()
                    req.cond = cond
                    return req
                if self.draining and self.all_done():
                    return None
                self.wait_until(self._has_work, cond, None, True)
        finally:
            lock.release()

    def done(self, req):
        lock = self.lock
        lock.acquire()
        try:
            self.running -= 1
            conn = req.conn
            conn.requests.pop(req.id, None)
            if conn.ending and not conn.requests and conn is not self.primary:
                if conn.closed:
                    self._release(conn)
                else:
                    self.end(conn)  # drained after its SHUTDOWN
        finally:
            lock.release()

    def terminate(self):
        """SIGTERM (in the signal handler, so no locks): every connection drains as on SHUTDOWN.
        Returns whether a request is left anywhere."""
        conns = list(self.conns)
        for conn in conns:
            conn.shutting_down = conn.ending = True
        self.draining = True
        for conn in conns:
            if conn.requests:
                return True
        return False
