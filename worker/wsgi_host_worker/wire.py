"""The framed protocol between the front end and this worker (docs/protocol.md): frame types,
flags, sizes. src/protocol/frame-types.ts (and request-head.ts, response-head.ts) hold the same
numbers; test/unit/worker-parity.test.ts checks that both sides agree.

Standard library only, and nothing of the rest of the package: this module can be run on its own.
"""

import struct

# The READY frame carries it ("protocol"); the front end refuses a worker that speaks another one.
PROTOCOL_VERSION = 1

# Frame header: payload length (u32), request id (u32), type (u8), flags (u8). Big-endian.
HEADER = struct.Struct(">IIBB")
HEADER_SIZE = HEADER.size
U32 = struct.Struct(">I")
# A RESPONSE payload starts with the status (u16) and the head's length (u32); the head is latin-1
# "reason\0name\0value...", then the body.
RESPONSE_PREFIX = struct.Struct(">HI")
# A REQUEST payload is latin-1 fields joined by NUL: this many fixed ones, then header names and
# values alternating (pseudo fields such as ":server-addr" first).
FIXED_FIELDS = 13

# Frame types. Front end -> worker:
T_INIT = 1
T_REQUEST = 2
T_DATA = 3  # both directions
T_CREDIT = 4  # both directions
T_CANCEL = 5
T_FILE_DONE = 6
T_SHUTDOWN = 7
T_RECALL = 8
# Worker -> front end:
T_READY = 16
T_LOAD_FAILED = 17
T_RESPONSE = 18
T_FILE = 19
T_LOG = 20
T_MODULES = 21

F_END = 1
F_CONTINUE = 2
F_ABORT = 4
F_NOT_STARTED = 8

# The FILE_DONE payload: what the front end did with a file offered by descriptor.
FILE_SENT = 0
FILE_REFUSED = 1
FILE_ABORTED = 2

# The LOG payload's first byte: the logging module's levels.
LOG_DEBUG = 10
LOG_INFO = 20
LOG_WARNING = 30
LOG_ERROR = 40
LOG_CRITICAL = 50

# The worker's read buffer: the front end's largest frame (MAX_FRONT_END_PAYLOAD plus its header)
# fits in it; a larger frame grows it for that frame only.
READ_BUFFER = 256 * 1024

# What the probe prints before its JSON report (the boot prints it too, on a Python too old).
PROBE_MARKER = "@@wsgi-host-probe@@"
