"""Keep freed big arrays in the heap, so that each training step does not fault them in.

glibc's ``malloc`` serves blocks above its mmap threshold (at most 32 MiB, and 128 KiB
until a free raises it) with fresh ``mmap`` pages and returns them on ``free``; a heap
that grows past the trim threshold is given back too. A training step allocates and
frees the same few large arrays every time (im2col patches, GEMM outputs, gradients), so
every step took page faults and had the kernel zero those pages again: on the MNIST CNN,
about 2,000 minor faults and a large share of system time per step. Raising both
thresholds once keeps those blocks in the heap, where the next step reuses them.

The cost: memory freed by the process is not handed back to the OS until it exits (peak
memory is unchanged; the resident size stays near the peak). ``DEEPGRAD_MALLOC_TUNING=0``
turns it off. Only glibc on Linux is touched; elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 30
"""1 GiB: above any array of the course models, below what an mmap is still good for."""


def tune() -> bool:
    """Raise glibc's mmap and trim thresholds; True if it was done."""
    if os.environ.get("DEEPGRAD_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mmap_ok = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    return mmap_ok and bool(mallopt(M_TRIM_THRESHOLD, 2 * THRESHOLD - 1))
