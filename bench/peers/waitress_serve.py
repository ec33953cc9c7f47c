"""Run bench/apps/routes.py under waitress: waitress_serve.py APP_FILE PORT THREADS.

waitress logs a WARNING for every queued request under load: the 'waitress.queue' logger is
raised to ERROR, or the logging would cost more than the requests."""
import importlib.util
import logging
import sys

from waitress import serve


def main():
    app_file, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    spec = importlib.util.spec_from_file_location("routes", app_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    serve(module.application, host="127.0.0.1", port=port, threads=threads)


if __name__ == "__main__":
    main()
