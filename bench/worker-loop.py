"""The Python worker alone, driven the way the front end drives it: one real worker process (the
boot, the package on stdin, a socketpair as its file descriptor 3), fed REQUEST frames closed-loop
with `depth` requests in flight (the front end pipelines up to 1 + 8 per process at c64), or a
request body in DATA frames within its credit, or a download granted credit as it arrives. Prints
the worker's CPU per request from /proc (utime + stime), and, under strace or valgrind (--wrap), how
many system calls or instructions that is.

    python3 bench/worker-loop.py [--app hello|json|upload|download] [--requests N] [--depth D]
                                 [--threads T] [--spin US] [--wrap 'strace -c -f -o FILE']

Deterministic counts on this shared machine (no hardware counters in the VM):
    python3 bench/worker-loop.py --requests 2000 --wrap 'valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p'
    (instructions per request: run with two request counts and divide the difference)
"""
import argparse
import json
import os
import shlex
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "..", "worker")
BOOT = os.path.join(WORKER, "boot.py")
PACKAGE = os.path.abspath(os.path.join(WORKER, "wsgi_host_worker"))
HEADER = struct.Struct(">IIBB")
U32 = struct.Struct(">I")
T_INIT, T_REQUEST, T_DATA, T_CREDIT = 1, 2, 3, 4
T_READY, T_RESPONSE, T_LOG = 16, 18, 20
F_END, F_ABORT = 1, 4
REQUEST_WINDOW = 256 * 1024
RESPONSE_WINDOW = 512 * 1024
MAX_DATA = 128 * 1024  # the front end's largest DATA frame
UPLOAD = 10 * 1024 * 1024
# --profile: the boot under cProfile; the stats are written when the worker leaves (os._exit, on
# the serving thread, when the connection closes). Only the main thread is profiled (--threads 1).
PROFILE = """
import cProfile, os, sys
out, boot = sys.argv[1], sys.argv[2]
sys.argv[:] = ["-c"] + sys.argv[3:]
prof = cProfile.Profile()
_exit = os._exit
def leave(status):
    prof.disable()
    prof.dump_stats(out)
    _exit(status)
os._exit = leave
prof.enable()
exec(compile(boot, "boot.py", "exec"), {"__name__": "__main__"})
"""
APPS = {"hello": "/hello", "json": "/json", "upload": "/upload", "download": "/download", "100k": "/100k"}


def program(package):
    sources = {}
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            with open(os.path.join(package, name), "r", encoding="utf-8") as f:
                sources[name[:-3]] = f.read()
    data = json.dumps(sources).encode("utf-8")
    return b"%d\n" % len(data) + data


def head(rid, path, method="GET", extra=()):
    fields = ["0", method, "", path, "", path, "HTTP/1.1", "127.0.0.1", "54321", "127.0.0.1", "8000", "http",
              "req-%d" % rid, ":server-addr", "127.0.0.1", ":listener-host", "127.0.0.1", ":listener-port", "8000",
              ":request-start", "1700000000000000", "Host", "127.0.0.1:8000", "User-Agent", "wrk/4.1",
              "Accept", "*/*"]
    fields.extend(extra)
    return "\0".join(fields).encode("latin-1")


class Driver(object):
    def __init__(self, args):
        self.args = args
        front, back = socket.socketpair()
        with open(BOOT, "r", encoding="utf-8") as f:
            boot = f.read()
        fileno = back.fileno()
        if args.profile:
            cmd = shlex.split(args.wrap) + [args.python, "-c", PROFILE, args.profile, boot, args.package]
        else:
            cmd = shlex.split(args.wrap) + [args.python, "-c", boot, args.package]
        env = dict(os.environ, WSGI_HOST_SOCKET="", WSGI_HOST_WATCH_STDIN="1")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env=env, close_fds=False,
                                     preexec_fn=lambda: os.dup2(fileno, 3))
        back.close()
        self.proc.stdin.write(program(args.package))
        self.proc.stdin.flush()
        self.sock = front
        self.buf = bytearray(1 << 20)
        self.start = 0
        self.end = 0
        init = {"group": "", "applicationGroup": "%{GLOBAL}", "threads": args.threads, "multiprocess": True,
                "apps": [{"kind": "script", "target": os.path.join(HERE, "apps", "routes.py"),
                          "callable": "application"}],
                "pythonPath": [], "requestWindow": REQUEST_WINDOW, "responseWindow": RESPONSE_WINDOW,
                "spinBudget": args.spin / 1e6, "environ": {}, "logLevel": 30}
        self.send(self.frame(T_INIT, 0, 0, json.dumps(init).encode()))
        ftype, _, _, payload = self.next_frame()
        if ftype != T_READY:
            raise SystemExit("the worker did not start: %r" % (payload[:2000],))

    @staticmethod
    def frame(ftype, rid, flags, payload=b""):
        return HEADER.pack(len(payload), rid, ftype, flags) + payload

    def send(self, data):
        self.sock.sendall(data)

    def next_frame(self):
        while True:
            if self.end - self.start >= 10:
                length, rid, ftype, flags = HEADER.unpack_from(self.buf, self.start)
                stop = self.start + 10 + length
                if stop <= self.end:
                    payload = self.buf[self.start + 10:stop] if length <= 4096 else length
                    self.start = stop
                    if ftype != T_LOG:
                        return ftype, rid, flags, payload
                    continue
                if stop > len(self.buf):
                    self.buf.extend(bytearray(stop - len(self.buf)))
            if self.start:
                self.buf[:self.end - self.start] = self.buf[self.start:self.end]
                self.end -= self.start
                self.start = 0
            with memoryview(self.buf) as view:
                n = self.sock.recv_into(view[self.end:])
            if n == 0:
                raise EOFError("the worker closed its connection")
            self.end += n

    def cpu(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self):
        a = self.args
        path = APPS[a.app]
        upload = a.app == "upload"
        sent = 0
        done = 0
        body_left = {}
        credit = {}
        granted = {}

        def start(rid):
            if upload:
                self.send(self.frame(T_REQUEST, rid, 0, head(rid, path, "POST", ("Content-Length", str(UPLOAD)))))
                body_left[rid] = UPLOAD
                credit[rid] = REQUEST_WINDOW
                push(rid)
            else:
                self.send(self.frame(T_REQUEST, rid, F_END, head(rid, path)))

        frame_size = min(a.data_frame, MAX_DATA)
        chunk = b"x" * frame_size

        def push(rid):
            out = []
            while body_left[rid] > 0 and credit[rid] > 0:
                n = min(frame_size, body_left[rid], credit[rid])
                body_left[rid] -= n
                credit[rid] -= n
                out.append(self.frame(T_DATA, rid, F_END if body_left[rid] == 0 else 0, chunk[:n]))
            if out:
                self.send(b"".join(out))

        batch = []
        t0 = time.perf_counter()
        cpu0 = self.cpu()
        depth = a.depth if not upload and a.app != "download" else min(a.depth, 2)
        for _ in range(min(depth, a.requests)):
            sent += 1
            start(sent)
        while done < a.requests:
            ftype, rid, flags, payload = self.next_frame()
            if ftype == T_CREDIT:
                credit[rid] += U32.unpack_from(payload)[0]
                push(rid)
                continue
            if ftype == T_DATA and not flags & F_END:
                n = payload if type(payload) is int else len(payload)
                granted[rid] = granted.get(rid, 0) + n
                if granted[rid] >= RESPONSE_WINDOW // 4:
                    self.send(self.frame(T_CREDIT, rid, 0, U32.pack(granted.pop(rid))))
                continue
            if not flags & F_END:
                continue
            if flags & F_ABORT:
                raise SystemExit("request %d aborted" % rid)
            done += 1
            granted.pop(rid, None)
            if sent < a.requests:
                sent += 1
                batch.append(sent)
            # Send the next requests once the chunk read is used up, as the front end's corked writes do.
            if batch and self.end - self.start < 10:
                for r in batch:
                    start(r)
                del batch[:]
        wall = time.perf_counter() - t0
        cpu = self.cpu() - cpu0
        return wall, cpu

    def close(self):
        self.sock.close()  # the worker's serving thread sees it (and --profile dumps its stats)
        try:
            return self.proc.wait(60)
        finally:
            self.proc.stdin.close()


def count_instructions(args):
    """Instructions per request, under valgrind's callgrind: two runs of the worker (N and 3N
    requests), the difference divided by 2N, so start-up and exit cancel out."""
    counts = []
    for n in (args.requests, 3 * args.requests):
        out = tempfile.mktemp(prefix="worker-loop-cg-")
        cmd = [sys.executable, os.path.abspath(__file__), "--package", args.package, "--app", args.app,
               "--requests", str(n), "--data-frame", str(args.data_frame), "--depth",
               str(args.depth), "--threads", str(args.threads), "--spin", "0", "--python", args.python,
               "--wrap", "valgrind --tool=callgrind --callgrind-out-file=%s" % out]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            total = [int(line.split()[1]) for line in f if line.startswith("summary:")][0]
        if args.keep:
            print("callgrind output: %s" % out)
        else:
            os.unlink(out)
        counts.append(total)
    per = (counts[1] - counts[0]) / (2.0 * args.requests)
    print("worker-loop %s: depth %d, %d thread(s), %s: %s instructions per request (callgrind, spin off)"
          % (args.app, args.depth, args.threads, args.python, format(int(per), ",")))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--app", choices=sorted(APPS), default="hello")
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--depth", type=int, default=9)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-frame", type=int, default=65536,
                   help="upload: DATA payload size (the front end sends what node:http read: up to 64 KiB)")
    p.add_argument("--spin", type=float, default=300, help="busy-poll budget, microseconds (0: never)")
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--package", default=PACKAGE, help="the worker package folder (another checkout's, to compare)")
    p.add_argument("--profile", default="", help="write cProfile stats of the worker's main thread to this file")
    p.add_argument("--wrap", default="", help="a command the worker runs under (strace, valgrind)")
    p.add_argument("--instructions", action="store_true",
                   help="count the worker's instructions per request under callgrind (two runs: N and 3N requests)")
    p.add_argument("--keep", action="store_true", help="--instructions: keep callgrind's output files")
    args = p.parse_args()
    if args.instructions:
        return count_instructions(args)
    d = Driver(args)
    try:
        wall, cpu = d.run()
    finally:
        status = d.close()
    n = args.requests
    mb = {"upload": UPLOAD, "download": 100 * 1024 * 1024}.get(args.app)
    rate = " %.0f MB/s" % (n * mb / wall / 1048576) if mb else ""
    print("worker-loop %s: %d requests, depth %d, %d thread(s): %.0f req/s%s, worker CPU %.1f us/req "
          "(%.0f%% of a CPU); exit %s"
          % (args.app, n, args.depth, args.threads, n / wall, rate, cpu * 1e6 / n, 100 * cpu / wall, status))


if __name__ == "__main__":
    main()
