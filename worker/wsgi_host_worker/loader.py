"""Loading applications and preparing the interpreter: WSGI scripts (as mod_wsgi loads them) and
'module:callable' targets (gunicorn's 'module:factory(args)' too), python-path, the description of
the interpreter, tracebacks that start at the application, and the probe."""

import hashlib
import importlib
import json
import os
import sys
import traceback
import types

from .wire import PROBE_MARKER

# This package's folder, and importlib's file: frames of these at the start of a traceback are
# the server's, not the application's.
_OWN_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
_IMPORTLIB_FILE = getattr(importlib, "__file__", None) or "<importlib>"


def own_file(filename):
    """Whether filename is one of this package's modules."""
    return filename.startswith(_OWN_FOLDER)


def _server_frame(filename):
    return (filename.startswith(_OWN_FOLDER) or filename == _IMPORTLIB_FILE
            or filename.startswith("<frozen importlib"))


def app_traceback(exc):
    """The traceback of an application's exception, from the application's first frame: the
    worker's own frames (and importlib's) that lead to it are left out. An exception raised by the
    worker itself (no application frame) is shown without a traceback."""
    tb = exc.__traceback__
    while tb is not None and _server_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is None:
        return "".join(traceback.format_exception_only(type(exc), exc))
    return "".join(traceback.format_exception(type(exc), exc, tb))


def missing_module_folder(exc, apps):
    """For an import of a missing module that exists as a folder (or a .py file) in the working
    directory, next to a WSGI script or in the script's parent folder, but that folder is not on
    sys.path: {"name": ..., "folder": ...}, the folder python-path should name. Else None."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, ImportError) or not name:
        return None
    top = name.split(".")[0]
    candidates = [os.getcwd()]
    for app in apps or []:
        if app.get("kind") == "script":
            here = os.path.dirname(os.path.abspath(app["target"]))
            candidates += [here, os.path.dirname(here)]
    on_path = set(os.path.abspath(p or ".") for p in sys.path)
    for folder in candidates:
        if folder in on_path:
            continue
        if os.path.isdir(os.path.join(folder, top)) or os.path.isfile(os.path.join(folder, top + ".py")):
            return {"name": top, "folder": folder}
    return None


def load_application(spec):
    kind = spec["kind"]
    target = spec["target"]
    name = spec.get("callable") or "application"
    if kind == "script":
        module_name = "_mod_wsgi_" + hashlib.md5(target.encode("utf-8")).hexdigest()
        module = types.ModuleType(module_name)
        module.__file__ = target
        with open(target, "rb") as f:
            source = f.read()
        code = compile(source, target, "exec", dont_inherit=True)
        sys.modules[module_name] = module
        try:
            exec(code, module.__dict__)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        func = getattr(module, name, None)
        if func is None:
            raise LookupError("the WSGI script %s ran but defines no callable named %r; "
                              "name the callable with --callable (or callable-object=)"
                              % (target, name))
    else:
        module_name, _, expr = target.partition(":")
        module = importlib.import_module(module_name)
        func = _resolve_object(module, expr or name, target)
    if not callable(func):
        raise TypeError("%s: %r is not callable (it is %s)" % (target, name, type(func).__name__))
    return func


def _resolve_object(module, expr, target):
    """gunicorn-style 'module:name', 'module:obj.attr' or 'module:factory(args)'."""
    import ast
    call_args = None
    if expr.endswith(")") and "(" in expr:
        expr, _, args = expr.partition("(")
        node = ast.parse("f(" + args, mode="eval").body
        call_args = ([ast.literal_eval(a) for a in node.args],
                     dict((k.arg, ast.literal_eval(k.value)) for k in node.keywords))
    obj = module
    for part in expr.split("."):
        if not hasattr(obj, part):
            where = getattr(module, "__file__", None) or "built in"
            raise LookupError("%s: module %s (from %s) has no attribute %r; if that is not your module, "
                              "another one of the same name comes first on sys.path"
                              % (target, module.__name__, where, expr))
        obj = getattr(obj, part)
    if call_args is not None:
        obj = obj(*call_args[0], **call_args[1])
    return obj


def use_source_hashes(files):
    """--reload-on-changes: make the cached bytecode of the application's own modules checked by a
    hash of the source (PEP 552) instead of its modification time. Python trusts a timestamp-based
    __pycache__/*.pyc while the source's whole-second mtime and size are unchanged, so an edit in the
    same second that keeps the size would be detected, the group restarted, and the new process would
    still run the old code. With checked-hash bytecode every new process compiles what changed."""
    if sys.dont_write_bytecode or not files:
        return
    import importlib.util
    import py_compile
    for source in files:
        try:
            cached = importlib.util.cache_from_source(source)
            try:
                with open(cached, "rb") as f:
                    flags = int.from_bytes(f.read(8)[4:8], "little")
                if flags & 0b11 == 0b11:  # hash-based, checked against the source
                    continue
            except OSError:
                pass
            py_compile.compile(source, cfile=cached, doraise=True,
                               invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        except Exception:
            pass  # a folder the process cannot write: Python compiles from source then


def add_python_path(entries):
    """mod_wsgi's python-path: site.addsitedir() each entry (so .pth files are processed) and
    move what was added to the front of sys.path."""
    if not entries:
        return
    import site
    before = set(sys.path)
    for entry in entries:
        site.addsitedir(entry)
    added = []
    for p in sys.path:
        if p not in before and p not in added:
            added.append(p)
    rest = [p for p in sys.path if p not in added]
    sys.path[:] = added + rest


def python_info():
    import site
    try:
        site_packages = site.getsitepackages()
    except AttributeError:
        site_packages = []
    return {
        "executable": sys.executable,
        "version": "%d.%d.%d" % sys.version_info[:3],
        "implementation": sys.implementation.name,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "path": list(sys.path),
        "site_packages": site_packages,
    }


def probe(spec):
    """Report the interpreter and its sys.path after python-path, and whether the applications
    import; used by the front end before it starts workers and by `wsgi-host check`."""
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the applications print must not corrupt the report
    result = {}
    try:
        if spec.get("addWorkingDirectory"):
            sys.path.insert(0, os.getcwd())
        add_python_path(spec.get("pythonPath") or [])
    except Exception as e:
        result["pythonPathError"] = "".join(traceback.format_exception_only(type(e), e)).strip()
    result["python"] = python_info()
    apps = []
    for app in spec.get("apps") or []:
        entry = {"target": app["target"]}
        try:
            load_application(app)
            entry["ok"] = True
        except BaseException as e:
            entry["ok"] = False
            entry["error"] = "".join(traceback.format_exception_only(type(e), e)).strip()
            entry["traceback"] = app_traceback(e)
            missing = missing_module_folder(e, [app])
            if missing is not None:
                entry["missing"] = missing
        apps.append(entry)
    result["apps"] = apps
    out.write("\n" + PROBE_MARKER + json.dumps(result) + "\n")
    out.flush()
    os._exit(0)
