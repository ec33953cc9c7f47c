# wsgi-host worker boot. The front end runs `<python> -c <this text> <package folder> [args...]`
# and writes the worker package to stdin: "<length>\n" then JSON {module name: source}. The boot
# creates the package under the private name _wsgi_host_worker (never on sys.path: the worker's
# folder is not read, so a group's user= needs no access to it) and runs its main(args).
# This text must stay valid Python 2.7 and 3.0+: on an interpreter older than 3.8 it prints what
# the probe needs to name the version, then exits with status 3. The worker tests run the same
# text (worker/tests/harness.py), and load the package in-process through _wsgi_host_install.
import sys
if __name__ == '__main__' and sys.path and sys.path[0] == '':
    del sys.path[0]  # -c puts the current directory first; mod_wsgi never has it
import os


def _wsgi_host_install(folder, sources=None, package='_wsgi_host_worker'):
    """Create the package named package from sources ({module name: source}; None: the .py files
    of folder) and return its main module. Each module gets __name__, __package__ and __file__
    (its real path in folder, for tracebacks); the finder that imports them is removed before
    this returns, so nothing of it remains for the application to see."""
    import importlib
    from importlib.machinery import ModuleSpec
    if sources is None:
        sources = {}
        for entry in os.listdir(folder):
            if entry.endswith('.py'):
                with open(os.path.join(folder, entry), 'rb') as f:
                    sources[entry[:-3]] = f.read().decode('utf-8')

    class Finder(object):
        def _short(self, name):
            if name == package:
                return '__init__'
            if name.startswith(package + '.') and name[len(package) + 1:] != '__init__':
                return name[len(package) + 1:]
            return None

        def find_spec(self, name, path=None, target=None):
            short = self._short(name)
            if short not in sources:
                return None
            return ModuleSpec(name, self, origin=os.path.join(folder, short + '.py'), is_package=short == '__init__')

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            module.__file__ = module.__spec__.origin
            code = compile(sources[self._short(module.__name__)], module.__file__, 'exec', dont_inherit=True)
            exec(code, module.__dict__)

        def get_source(self, name):  # for linecache: tracebacks show our lines even if folder is unreadable
            return sources.get(self._short(name))

    finder = Finder()
    sys.meta_path.insert(0, finder)
    try:
        return importlib.import_module(package + '.main')
    finally:
        sys.meta_path.remove(finder)


def _wsgi_host_read():
    """The package as the front end sends it on stdin: "<length>\n<JSON>"."""
    head = b''
    while not head.endswith(b'\n'):
        c = os.read(0, 1)
        if not c or len(head) > 20:
            sys.stderr.write('wsgi-host worker: no program on stdin; '
                             'this program is started by wsgi-host, not by hand\n')
            os._exit(2)
        head += c
    n = int(head)
    parts = []
    while n > 0:
        c = os.read(0, min(n, 65536))
        if not c:
            sys.stderr.write('wsgi-host worker: the program on stdin was cut short\n')
            os._exit(2)
        parts.append(c)
        n -= len(c)
    import json
    return json.loads(b''.join(parts).decode('utf-8'))


if __name__ == '__main__':
    _wsgi_host_folder = sys.argv[1]
    _wsgi_host_args = sys.argv[2:]
    sys.argv[:] = ['wsgi-host']
    if sys.version_info[:2] < (3, 8):
        import json
        import platform
        sys.stdout.write('\n' + '@@wsgi-host-probe@@' + json.dumps({'python': {
            'executable': sys.executable, 'version': '%d.%d.%d' % tuple(sys.version_info[:3]),
            'implementation': platform.python_implementation().lower(), 'prefix': sys.prefix,
            'base_prefix': getattr(sys, 'base_prefix', sys.prefix), 'path': sys.path, 'site_packages': []},
            'apps': []}) + '\n')
        sys.stdout.flush()
        os._exit(3)
    sys.exit(_wsgi_host_install(_wsgi_host_folder, _wsgi_host_read()).main(_wsgi_host_args))
