"""boot.py: the package is created from what arrives on stdin, under a private name, and nothing of
it is on the application's sys.path or in its --reload-on-changes list."""

import json
import linecache
import os
import subprocess
import sys
import textwrap
import unittest

import harness
from harness import PACKAGE, PRIVATE_NAME, WORKER, WorkerProcess, load

pkg = load()
w = pkg.wire

APP = """
    import importlib.util, json, sys
    import helper_for_watch
    def application(environ, start_response):
        ours = dict((name, (getattr(m, "__file__", None), getattr(m, "__package__", None)))
                    for name, m in sys.modules.items() if name.split(".")[0] == "_wsgi_host_worker")
        finders = [type(f).__name__ for f in sys.meta_path
                   if hasattr(f, "find_spec") and f.find_spec("_wsgi_host_worker.wire", None) is not None]
        report = {
            "path": sys.path,
            "ours": ours,
            "finders": finders,
            "importable": importlib.util.find_spec("wsgi_host_worker") is not None,
            "main_file": getattr(sys.modules["__main__"], "__file__", None),
            "argv": sys.argv,
        }
        start_response("200 OK", [])
        return [json.dumps(report).encode()]
"""


class PrivatePackage(unittest.TestCase):
    def test_the_package_is_private_and_not_watched(self):
        # Over the unix socket the worker listens on (as on Linux), with --reload-on-changes.
        worker = WorkerProcess(via_socket_path=True)
        try:
            path = os.path.join(worker.tmp.name, "app.wsgi")
            with open(path, "w") as f:
                f.write(textwrap.dedent(APP))
            helper = os.path.join(worker.tmp.name, "helper_for_watch.py")
            with open(helper, "w") as f:
                f.write("WORD = 1\n")
            init = {"group": "g", "threads": 1, "apps": [{"kind": "script", "target": path}],
                    "pythonPath": [worker.tmp.name],
                    "requestWindow": 65536, "responseWindow": 65536, "spinBudget": 0, "reloadOnChanges": True}
            worker.send(w.T_INIT, 0, 0, json.dumps(init).encode())
            ftype, _, _, payload = worker.frame()
            self.assertEqual(ftype, w.T_READY, payload)
            self.assertEqual(json.loads(payload.decode())["protocol"], w.PROTOCOL_VERSION)
            ftype, _, _, payload = worker.frame()
            self.assertEqual(ftype, w.T_MODULES)
            watched = json.loads(payload.decode())
            self.assertIn(helper, watched, "the application's own modules are watched")
            self.assertEqual([f for f in watched if f.startswith(WORKER)], [], "our own modules are never watched")
            fields = ["0", "GET", "", "/", "", "/", "HTTP/1.1", "127.0.0.1", "1", "h", "80", "http", "r1"]
            worker.send(w.T_REQUEST, 1, w.F_END, "\0".join(fields).encode("latin-1"))
            ftype, _, _, payload = worker.frame()
            self.assertEqual(ftype, w.T_RESPONSE)
            report = json.loads(payload[6 + w.RESPONSE_PREFIX.unpack_from(payload)[1]:].decode())
        finally:
            self.assertEqual(worker.close(), 0)
        self.assertNotIn("", report["path"], "-c's current directory is removed")
        self.assertEqual([p for p in report["path"] if p.startswith(WORKER)], [], "nothing of ours on sys.path")
        self.assertFalse(report["importable"], "the worker's folder name is not importable")
        self.assertEqual(report["finders"], [], "no finder of ours is left on sys.meta_path")
        self.assertIsNone(report["main_file"])
        self.assertEqual(report["argv"], ["wsgi-host"])
        modules = sorted(n[:-3] for n in os.listdir(PACKAGE) if n.endswith(".py"))
        expected = dict((PRIVATE_NAME + ("" if m == "__init__" else "." + m),
                         [os.path.join(PACKAGE, m + ".py"), PRIVATE_NAME]) for m in modules)
        self.assertEqual(report["ours"], expected, "every module, by its real path, in the private package")

    def test_the_folder_is_never_read(self):
        # The sources come from stdin; a folder that does not exist works, and tracebacks still show
        # the worker's own lines (linecache asks the loader).
        sources = json.loads(harness.program().split(b"\n", 1)[1].decode())
        folder = os.path.join(WORKER, "no-such-folder")
        namespace = {"__name__": "_wsgi_host_boot"}
        exec(compile(harness.boot_text(), harness.BOOT, "exec"), namespace)
        name = "_wsgi_host_worker_copy"
        try:
            main = namespace["_wsgi_host_install"](folder, sources, name)
            self.assertEqual(main.__name__, name + ".main")
            wire = sys.modules[name + ".wire"]
            self.assertEqual(wire.__file__, os.path.join(folder, "wire.py"))
            self.assertEqual(linecache.getline(wire.__file__, 1, wire.__dict__), sources["wire"].split("\n")[0] + "\n")
        finally:
            for m in [m for m in sys.modules if m.split(".")[0] == name]:
                del sys.modules[m]


class Boot(unittest.TestCase):
    def run_boot(self, args=(), stdin_data=None):
        proc = harness.spawn(args, stdin_data=stdin_data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=30)
        return proc.returncode, out.decode(), err.decode()

    def test_without_a_program_on_stdin(self):
        code, _, err = self.run_boot(stdin_data=b"")
        self.assertEqual(code, 2)
        self.assertIn("no program on stdin; this program is started by wsgi-host, not by hand", err)
        code, _, err = self.run_boot(stdin_data=b"100\n{}")
        self.assertEqual(code, 2)
        self.assertIn("the program on stdin was cut short", err)

    def test_probe(self):
        spec = {"apps": [{"kind": "module", "target": "json:dumps", "callable": "application"},
                         {"kind": "module", "target": "no_such_module_xyz:app", "callable": "application"}]}
        code, out, _ = self.run_boot(["probe", json.dumps(spec)])
        self.assertEqual(code, 0)
        report = json.loads(out[out.rindex(w.PROBE_MARKER) + len(w.PROBE_MARKER):])
        self.assertEqual(report["python"]["executable"], sys.executable)
        self.assertEqual([a["ok"] for a in report["apps"]], [True, False])
        self.assertIn("No module named 'no_such_module_xyz'", report["apps"][1]["error"])


if __name__ == "__main__":
    unittest.main()
