"""Extra connections: each front-end event loop (a Node worker thread) reaches this process over a
connection of its own, opened on the socket path after READY (docs/protocol.md).

design: one daemon thread accepts on the listener forever and refuses any peer that is not this
process's parent (SO_PEERCRED). An accepted connection gets the settings INIT gave the primary
(no INIT comes on it: its first frames are REQUESTs) and joins the hub (hub.py): the process's
`threads` threads serve it with the others, and the hub's reader is woken to read it too. It runs
no application thread of its own. It carries only requests; their frames (LOG included) go back
on it. Its end of file, or an error on it, ends it alone; SHUTDOWN on it drains it, then the hub
closes it (hub.end) and the process exits if that was the last thing it waited for.
"""

import errno
import select
import threading
import time

from .connection import Connection, from_parent
from .serve import shutdown_now


def start_accepting(worker):
    """(once READY was sent) Accept extra connections on worker.listener, in a daemon thread."""
    worker.hub.listen(worker.listener)
    t = threading.Thread(target=_accept_forever, args=(worker,), name="wsgi-host-accept", daemon=True)
    t.start()


def _accept_forever(worker):
    """Accept and add each connection under the hub's lock, so that Hub.all_done sees a connection
    either still waiting in the backlog or added: never one in between."""
    hub = worker.hub
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
        with hub.lock:
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
                    add_extra(worker, sock)
                else:
                    sock.close()  # not the front end that started this process
                    refused = True
            done = refused and hub.draining and hub.all_done()
        if sock is None:
            time.sleep(0.1)
        elif done:
            shutdown_now(0)  # that peer was all the exit rule still waited for


def add_extra(worker, sock):
    """(the hub's lock held) Serve an accepted connection from the parent."""
    primary = worker.conn
    conn = Connection(sock, worker.hub)  # joins the hub, whose reader is woken
    conn.response_window = primary.response_window
    conn.request_window = primary.request_window
    conn.log_threshold = primary.log_threshold
    conn.spin_budget = primary.spin_budget
    return conn
