"""The C allocator's thresholds, primed once at start so that request bodies do not make the
process hand memory back to the kernel and fault it in again for every few chunks.

design: a request body reaches the application as chunks of up to 64 KiB, each a new bytes object
made by whichever thread reads the connection and freed by the thread that runs the application.
glibc's malloc serves blocks under its mmap threshold (128 KiB at start) from a heap per thread
(an arena), and gives the top of a heap back to the kernel whenever more than its trim threshold
(128 KiB at start) lies free there. Four uploads in flight in one process keep a few hundred KiB
of chunks per heap coming and going, so each heap was trimmed and grown again over and over: an
madvise, a TLB flush on every core the process runs on, then a page fault per 4 KiB of the next
chunk. Measured (10 MB uploads, 4 connections, one process of 4 threads): 18-26 uploads a second
and ~31 ms of the worker's CPU per upload (madvise and its TLB flushes 11% of the worker's
profile, page faults 7%, and its threads waiting on each other for the rest); primed, 45-57 uploads
a second and ~8 ms (docs/performance.md).

glibc raises both thresholds by itself the first time the program frees a block larger than the
mmap threshold (mallopt(3): the mmap threshold becomes that block's size, the trim threshold twice
that), and keeps adjusting them from then on. prime() frees one such block at start, as most
applications do soon anyway, so that the process starts where it would be after its first large
buffer: blocks up to ~1 MiB from the heaps, up to ~2 MiB left free at the top of each. Nothing is
set for good: the adjustment goes on as glibc's own, and when the environment fixed a threshold
(MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ or GLIBC_TUNABLES) glibc makes no
adjustment, so that setting stands. Other C libraries get one allocation and its free: harmless.
"""

PRIME_BYTES = 1024 * 1024


def prime():
    """Free one block of PRIME_BYTES through the C allocator (see above). Returns whether it ran
    (False where ctypes or the C library's malloc cannot be reached)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        malloc = libc.malloc
        free = libc.free
        malloc.restype = ctypes.c_void_p
        malloc.argtypes = [ctypes.c_size_t]
        free.restype = None
        free.argtypes = [ctypes.c_void_p]
    except Exception:
        return False
    block = malloc(PRIME_BYTES)
    if not block:
        return False
    free(block)
    return True
