"""Extra connections: each front-end event loop (a Node worker thread) reaches this process over a
connection of its own, opened on the socket path after READY (docs/protocol.md).

design: one daemon thread accepts on the listener forever and refuses any peer that is not this
process's parent (SO_PEERCRED). An accepted connection gets the settings INIT gave the primary
(no INIT comes on it: its first frames are REQUESTs) and `threads` threads of its own running the
serve loop. It carries only requests; their frames (LOG included) go back on it. Its end of file,
or an error on it, ends its threads only; SHUTDOWN on it drains it, then its threads end. The last
of its threads closes it and lets the process exit if that was the last thing it waited for
(Worker.all_done).
"""

import errno
import select
import threading
import time

from .connection import Connection, ConnectionLost, from_parent
from .environ import ThreadState
from .serve import shutdown_now


def start_accepting(worker):
    """(once READY was sent) Accept extra connections on worker.listener, in a daemon thread."""
    t = threading.Thread(target=_accept_forever, args=(worker,), name="wsgi-host-accept", daemon=True)
    t.start()


def _accept_forever(worker):
    """Accept and register each connection under worker.conns_lock, so that Worker.all_done sees
    a connection either still waiting in the backlog or registered: never one in between."""
    listener = worker.listener
    listener.setblocking(False)
    poller = select.poll()
    poller.register(listener, select.POLLIN)
    while True:
        try:
            poller.poll()
        except InterruptedError:
            continue
        refused = False
        with worker.conns_lock:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                if e.errno in (errno.EBADF, errno.EINVAL, errno.ENOTSOCK):
                    return  # the listener is gone
                sock = None  # out of descriptors or memory: try again
            if sock is not None:
                sock.setblocking(True)
                if from_parent(sock):
                    serve_extra(worker, sock)
                else:
                    sock.close()  # not the front end that started this process
                    refused = True
        if sock is None:
            time.sleep(0.1)
        elif refused and worker.all_done():
            shutdown_now(0)  # that peer was all the exit rule still waited for


def serve_extra(worker, sock):
    """(worker.conns_lock held) Serve an accepted connection from the parent."""
    primary = worker.conn
    conn = Connection(sock)
    conn.response_window = primary.response_window
    conn.request_window = primary.request_window
    conn.log_threshold = primary.log_threshold
    conn.spin_budget = primary.spin_budget
    worker.conns.append(conn)
    left = [worker.threads]  # its threads still running (under conn.lock)
    for _ in range(worker.threads):
        t = threading.Thread(target=_thread_main, args=(worker, conn, left), name="wsgi-host-worker",
                             daemon=True)
        t.start()
    return conn


def _thread_main(worker, conn, left):
    cond = threading.Condition(conn.lock)
    state = ThreadState()
    handle = worker.handle
    try:
        while True:
            ch = conn.next_request(cond)
            if ch is None:
                break  # SHUTDOWN, and nothing left to start
            handle(ch, state)
    except ConnectionLost:
        conn.lose()  # end of file or an error: the other threads of this connection end too
    with conn.lock:
        left[0] -= 1
        last = left[0] == 0
    if not last:
        return
    with worker.conns_lock:
        worker.conns.remove(conn)
    conn.closed = True
    try:
        conn.sock.close()
    except OSError:
        pass
    if worker.all_done():
        shutdown_now(0)
