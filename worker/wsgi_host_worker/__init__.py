"""wsgi-host worker: runs one process group's WSGI applications for the wsgi-host front end.

Standard library only, Python 3.8+. Never on the application's sys.path and never imported by its
folder's name: worker/boot.py creates this package under the private name _wsgi_host_worker from
sources the front end sends on stdin (docs/architecture-worker.md).

    wire        frame types, flags, sizes (the same numbers as src/protocol/frame-types.ts)
    connection  the socket: reading frames (leader/follower), dispatching them, writing
    channel     one request's stream: body reads with credit, every frame of its response
    input       wsgi.input
    environ     the WSGI environ
    wsgi        PEP 3333's response rules: start_response, write, file_wrapper
    logs        stdout, stderr and wsgi.errors as LOG frames; the logging bridge
    loader      loading applications, python-path, tracebacks, the probe
    serve       the threads and one request's run through its application
    heap        the C allocator's thresholds, primed at start (request bodies without page faults)
    main        connect, INIT, load, READY, serve
"""
