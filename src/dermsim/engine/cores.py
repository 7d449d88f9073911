"""How many cores this process may use: all of them, or one when it is one of several processes
sharing the machine (a Dask worker, a forked worker of a pool). numba-free, so that NumPy-only
work (population sampling) can ask without importing the compiled engine."""

from __future__ import annotations

import contextlib
import os
import sys


def in_dask_worker() -> bool:
    """True inside a Dask worker's task (then the kernel runs single-threaded: one worker per core)."""
    if "distributed" not in sys.modules:  # never import Dask just to ask
        return False
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


_PINNED: list[int] = []  # set by pin_default_threads in worker processes


def pin_default_threads(threads: int) -> None:
    """Make ``threads`` the default of this process's kernel calls: a pool of worker processes,
    one per core, runs each worker's kernels single-threaded (more threads than cores make the
    OpenMP threads spin against each other)."""
    _PINNED[:] = [max(1, int(threads))]


def pinned_threads() -> int | None:
    """The count :func:`pin_default_threads` set in this process, else None."""
    return _PINNED[0] if _PINNED else None


_BLAS_PINNED: list[bool] = []  # set by pin_blas_threads in worker processes


def pin_blas_threads() -> None:
    """Run this process's BLAS and OpenMP pools on one thread for the rest of its life (a forked
    pool worker, one per core)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # not entered as a context: nothing restores the limits
    _BLAS_PINNED[:] = [True]


def one_blas_thread() -> contextlib.AbstractContextManager:
    """BLAS and OpenMP pools on one thread for the length of a ``with`` block (threadpoolctl), so
    that threads or processes sharing the cores do not oversubscribe them; nothing to do where
    :func:`pin_blas_threads` already pinned them (threadpoolctl scans the loaded libraries on every
    entry, 3 ms, 13 times per chunk of a design)."""
    if _BLAS_PINNED:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def default_workers() -> int:
    """Chunk worker threads of a run that names none: one per core, or 1 where this process is one
    of several sharing the cores (a Dask worker, a pinned worker process)."""
    if _PINNED or in_dask_worker():
        return 1
    return max(1, os.cpu_count() or 1)
