"""What the worker tests share: the package loaded in-process the way the boot loads it, and worker
processes started the way the front end starts them (the same boot, the package on stdin)."""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.dirname(HERE)
BOOT = os.path.join(WORKER, "boot.py")
PACKAGE = os.path.join(WORKER, "wsgi_host_worker")
PRIVATE_NAME = "_wsgi_host_worker"


def boot_text():
    with open(BOOT, "r", encoding="utf-8") as f:
        return f.read()


def load():
    """The worker package, created in this process by the boot's own _wsgi_host_install."""
    if PRIVATE_NAME not in sys.modules:
        namespace = {"__name__": "_wsgi_host_boot"}
        exec(compile(boot_text(), BOOT, "exec"), namespace)
        namespace["_wsgi_host_install"](PACKAGE)
    return sys.modules[PRIVATE_NAME]


def program():
    """What the front end writes to a worker's stdin (src/python/worker-program.ts)."""
    sources = {}
    for name in sorted(os.listdir(PACKAGE)):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name), "r", encoding="utf-8") as f:
                sources[name[:-3]] = f.read()
    data = json.dumps(sources).encode("utf-8")
    return b"%d\n" % len(data) + data


def spawn(args=(), env=None, fd3=None, stdin_data=None, **popen):
    """python -c BOOT PACKAGE args..., its stdin a pipe that first carries program() (or
    stdin_data) and stays open. fd3: a socket to give the process as its file descriptor 3."""
    kwargs = {}
    if fd3 is not None:
        fileno = fd3.fileno()
        kwargs = {"close_fds": False, "preexec_fn": lambda: os.dup2(fileno, 3)}
    kwargs.update(popen)
    proc = subprocess.Popen([sys.executable, "-c", boot_text(), PACKAGE] + list(args), stdin=subprocess.PIPE,
                            env=dict(os.environ, **(env or {})), **kwargs)
    proc.stdin.write(program() if stdin_data is None else stdin_data)
    proc.stdin.flush()
    return proc


HEADER = struct.Struct(">IIBB")


class FrontEndConnection(object):
    """The front end's side of one connection to a worker."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(20)
        self.buf = b""

    def send(self, ftype, rid, flags, payload=b""):
        self.sock.sendall(HEADER.pack(len(payload), rid, ftype, flags) + payload)

    def any_frame(self):
        """The next frame, LOG frames included."""
        while True:
            if len(self.buf) >= 10:
                length, rid, ftype, flags = HEADER.unpack_from(self.buf)
                if len(self.buf) >= 10 + length:
                    payload = self.buf[10:10 + length]
                    self.buf = self.buf[10 + length:]
                    return ftype, rid, flags, payload
            data = self.sock.recv(1 << 16)
            if not data:
                raise EOFError("worker closed the connection")
            self.buf += data

    def frame(self, logs=None):
        """The next frame; LOG frames are skipped (their texts appended to logs when given)."""
        log_type = load().wire.T_LOG
        while True:
            ftype, rid, flags, payload = self.any_frame()
            if ftype == log_type:
                if logs is not None:
                    logs.append(payload[1:].decode("utf-8"))
                continue
            return ftype, rid, flags, payload


def connect_unix(path, proc, seconds=20):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + seconds
    while True:
        try:
            sock.connect(path)
            return sock
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                sock.close()
                raise
            time.sleep(0.01)


class WorkerProcess(FrontEndConnection):
    """A worker process and the front end's side of its (primary) connection."""

    def __init__(self, via_socket_path=False, env=None, bound=False):
        """bound: the listener is bound here and handed over as a descriptor (WSGI_HOST_SOCKET_FD),
        as the root launcher of a user= group does (self.bound_fd: its number in the worker)."""
        self.tmp = tempfile.TemporaryDirectory()
        env = dict(env or {}, WSGI_HOST_WATCH_STDIN="1")
        self.path = None
        if bound:
            self.path = os.path.join(self.tmp.name, "worker.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.path)
            listener.listen(64)
            self.bound_fd = listener.fileno()
            self.proc = spawn(env=dict(env, WSGI_HOST_SOCKET_FD=str(self.bound_fd)), pass_fds=(self.bound_fd,))
            listener.close()
            sock = connect_unix(self.path, self.proc)
        elif via_socket_path:
            self.path = os.path.join(self.tmp.name, "worker.sock")
            self.proc = spawn(env=dict(env, WSGI_HOST_SOCKET=self.path))
            sock = connect_unix(self.path, self.proc)
        else:
            front, back = socket.socketpair()
            self.proc = spawn(env=dict(env, WSGI_HOST_SOCKET=""), fd3=back)
            back.close()
            sock = front
        FrontEndConnection.__init__(self, sock)

    def connect_extra(self):
        """Another connection to the worker over its socket path, as another front-end event loop
        opens one (no INIT: requests only)."""
        return FrontEndConnection(connect_unix(self.path, self.proc))

    def close(self):
        """The front end goes away: the worker must exit (its status is returned)."""
        try:
            self.proc.stdin.close()
            return self.proc.wait(10)
        finally:
            self.sock.close()
            self.tmp.cleanup()
