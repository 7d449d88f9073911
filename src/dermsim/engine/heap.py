"""The C heap of a forked pool worker: keep freed blocks for reuse instead of handing them back.

A worker simulates chunk after chunk (a design's replicate blocks, a calibration's particles), and
each chunk allocates and frees the same large arrays (states, noise, scores of a chunk of
patients, tens of MB each) over and over. glibc serves blocks above its mmap threshold (at most
32 MB) with a fresh mmap and unmaps them when freed, so every chunk pays a page fault and a zeroed
page for each 4 KiB it touches again: 1.4 million faults and 5.5 s of system time in a
10,000-trial design run. Serving every block from the heap and never trimming it reuses the
pages. The worker's peak memory is what it was (a freed block goes back to the free lists, not
to the kernel, so the resident size stays at the peak until the worker ends). Only pool workers
do this: they end with their job. A single run (`dermsim simulate` to Parquet) faults mostly on
memory touched once (its recorded arrays, the file's tables) and measured no gain through the
noise, and the web app is a long-running server.

Written by hand: mallopt is glibc's own interface to these settings, and it is reached through
ctypes; no maintained Python package wraps it (jemalloc or tcmalloc would need LD_PRELOAD before
the interpreter starts, which an entry point cannot do for itself).
"""

from __future__ import annotations

import ctypes
import sys

# glibc <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_NEVER_TRIM = 2**31 - 1  # an int: the largest threshold mallopt takes


def keep_freed_memory() -> bool:
    """Serve all C allocations of this process from the heap and never return its top to the
    kernel; True when the C library took the settings, False where it is not glibc (nothing
    changes there)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the interpreter's own C library
    except (OSError, AttributeError):  # a C library without mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
