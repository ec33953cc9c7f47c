"""loader.py: python-path, loading applications, tracebacks of load failures, cached bytecode."""

import os
import sys
import tempfile
import unittest

from harness import load

loader = load().loader


class PythonPath(unittest.TestCase):
    def test_addsitedir_semantics_and_order(self):
        saved = list(sys.path)
        try:
            with tempfile.TemporaryDirectory() as d:
                a = os.path.join(d, "a")
                deep = os.path.join(d, "deep")
                os.mkdir(a)
                os.mkdir(deep)
                with open(os.path.join(a, "x.pth"), "w") as f:
                    f.write(deep + "\n")
                loader.add_python_path([a])
                self.assertEqual(sys.path[:2], [a, deep])
        finally:
            sys.path[:] = saved


class LoadApplication(unittest.TestCase):
    def test_script_file_as_mod_wsgi_loads_it(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "site.wsgi")
            with open(path, "w") as f:
                f.write("FILE = __file__\ndef app(e, s):\n    return []\n")
            func = loader.load_application({"kind": "script", "target": path, "callable": "app"})
            self.assertTrue(callable(func))
            self.assertEqual(func.__globals__["FILE"], path)
            self.assertTrue(func.__module__.startswith("_mod_wsgi_"))

    def test_missing_callable_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "site.wsgi")
            with open(path, "w") as f:
                f.write("x = 1\n")
            with self.assertRaises(LookupError) as ctx:
                loader.load_application({"kind": "script", "target": path, "callable": "application"})
            self.assertIn("no callable named 'application'", str(ctx.exception))

    def test_module_factory_call(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "factory_mod.py"), "w") as f:
                f.write("def make(a, b=2):\n    def app(e, s):\n        return [str(a + b).encode()]\n    return app\n")
            sys.path.insert(0, d)
            try:
                func = loader.load_application({"kind": "module", "target": "factory_mod:make(40, b=2)",
                                                "callable": "application"})
                self.assertEqual(func({}, None), [b"42"])
            finally:
                sys.path.remove(d)


class LoadFailures(unittest.TestCase):
    def test_traceback_starts_at_the_application(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "broken.wsgi")
            with open(path, "w") as f:
                f.write("import not_a_module_anywhere_xyz\n")
            try:
                loader.load_application({"kind": "script", "target": path, "callable": "application"})
            except ImportError as e:
                # As in the worker: the traceback starts in the worker's own frames.
                text = loader.app_traceback(e.with_traceback(e.__traceback__.tb_next))
            files = [line.split('"')[1] for line in text.splitlines() if line.strip().startswith("File ")]
            self.assertEqual(files, [path])
            self.assertIn("No module named 'not_a_module_anywhere_xyz'", text)

    def test_an_error_of_the_worker_itself_has_no_frames(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "site.wsgi")
            with open(path, "w") as f:
                f.write("x = 1\n")
            try:
                loader.load_application({"kind": "script", "target": path, "callable": "application"})
            except LookupError as e:
                text = loader.app_traceback(e.with_traceback(e.__traceback__.tb_next))
            self.assertNotIn("Traceback", text)
            self.assertIn("no callable named 'application'", text)

    def test_a_missing_module_that_is_a_folder_next_to_the_script(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "mysite"))
            script = os.path.join(d, "mysite", "wsgi.py")
            with open(script, "w") as f:
                f.write("import mysite.settings\n")
            err = ModuleNotFoundError("No module named 'mysite'", name="mysite")
            apps = [{"kind": "script", "target": script}]
            self.assertEqual(loader.missing_module_folder(err, apps), {"name": "mysite", "folder": d})
            self.assertIsNone(loader.missing_module_folder(ModuleNotFoundError("x", name="elsewhere"), apps))
            self.assertIsNone(loader.missing_module_folder(ValueError("x"), []))


class SourceHashes(unittest.TestCase):
    def test_cached_bytecode_is_checked_by_source_hash(self):
        import importlib.util
        if sys.dont_write_bytecode:
            self.skipTest("PYTHONDONTWRITEBYTECODE is set: nothing is cached")
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "helper_for_hashes.py")
            with open(src, "w") as f:
                f.write('WORD = "before"\n')
            loader.use_source_hashes([src])
            with open(importlib.util.cache_from_source(src), "rb") as f:
                flags = int.from_bytes(f.read(8)[4:8], "little")
            self.assertEqual(flags & 0b11, 0b11, "hash-based, checked against the source")


if __name__ == "__main__":
    unittest.main()
