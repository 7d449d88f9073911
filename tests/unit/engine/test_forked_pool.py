"""The forked worker pool: its workers leave SIGTERM to the kernel and Ctrl-C to the parent, keep
the pages they free, and a pool whose work is done ends without signalling them."""

from __future__ import annotations

import subprocess
import sys

import pytest

# in a fresh process: a pytest worker may already run OpenMP, where a fork is refused. The parent
# holds the command line's SIGTERM handler (dermsim.cli), which a worker used to inherit.
_POOL = """
import os, signal, time
import numpy as np
from dermsim.cli import _trap_sigterm
from dermsim.engine.compiled import forked_pool
_trap_sigterm()

def freed_mib(_):
    # resident MiB a freed 256 MiB array gives back to the kernel
    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    a = np.ones(2**25)
    before = rss()
    del a
    return round(before - rss())

def blas_threads(_):
    from threadpoolctl import threadpool_info
    return max(i["num_threads"] for i in threadpool_info())

print(freed_mib(0) >= 250)  # the parent: glibc's default
with forked_pool(2, "test") as pool:
    got = pool.map(signal.getsignal, [signal.SIGTERM, signal.SIGINT])
    kept = pool.map(freed_mib, [0, 1], chunksize=1)
    blas = pool.map(blas_threads, [0, 1], chunksize=1)
    workers = list(pool._pool)
print(got == [signal.SIG_DFL, signal.SIG_IGN], [p.exitcode for p in workers], max(kept) < 10, blas)
t0 = time.monotonic()
try:
    with forked_pool(2, "test") as pool:
        workers = list(pool._pool)
        busy = pool.map_async(time.sleep, [60, 60], chunksize=1)
        time.sleep(1.0)  # both workers asleep in their task
        raise KeyError("a failing block")
except KeyError:
    pass
print([p.exitcode for p in workers], time.monotonic() - t0 < 30)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked pool is for Linux")
def test_workers_end_on_their_own_after_the_work_and_by_sigterm_after_a_failure() -> None:
    done = subprocess.run([sys.executable, "-c", _POOL], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    parent, first, second = done.stdout.splitlines()
    # SIGTERM's default action, Ctrl-C ignored; freed pages kept for reuse (engine.heap) where the
    # parent hands them back; BLAS on one thread; after the block, exit code 0: closed, not signalled
    assert parent == "True"
    assert first == "True [0, 0] True [1, 1]"
    # a failing block terminates busy workers at once: killed by SIGTERM itself, not a minute later
    assert second == "[-15, -15] True"
    assert "KeyboardInterrupt" not in done.stderr  # no worker tracebacks


class _Pool:
    """Records what forked_pool does with its pool."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def close(self) -> None:
        self.calls.append("close")

    def terminate(self) -> None:
        self.calls.append("terminate")

    def join(self) -> None:
        self.calls.append("join")


def test_forked_pool_closes_after_the_work_and_terminates_on_an_exception(monkeypatch) -> None:
    # in process, the pool faked: which of close and terminate runs, and join in both cases
    from dermsim.engine import compiled

    pools: list[_Pool] = []
    monkeypatch.setattr(compiled, "fork_worker_pool", lambda n, what: pools.append(_Pool()) or pools[-1])
    with compiled.forked_pool(2, "test") as pool:
        assert pool is pools[0]
    with pytest.raises(KeyError), compiled.forked_pool(2, "test"):
        raise KeyError("a failing block")
    assert [p.calls for p in pools] == [["close", "join"], ["terminate", "join"]]


def test_a_forked_worker_s_setup(monkeypatch) -> None:
    # the initializer run in this process, with what it sets recorded instead of applied
    import signal

    from dermsim.engine import compiled

    pinned: list[int] = []
    heaps: list[bool] = []
    blas: list[bool] = []
    handlers: dict[int, object] = {}
    monkeypatch.setattr(compiled, "keep_freed_memory", lambda: heaps.append(True))
    monkeypatch.setattr(compiled, "pin_blas_threads", lambda: blas.append(True))
    monkeypatch.setattr(compiled, "pin_default_threads", pinned.append)
    monkeypatch.setattr(signal, "signal", lambda sig, handler: handlers.__setitem__(sig, handler))
    compiled._init_forked_worker()
    assert pinned == [1] and heaps == [True] and blas == [True]
    assert handlers == {signal.SIGTERM: signal.SIG_DFL, signal.SIGINT: signal.SIG_IGN}


def test_one_blas_thread_is_a_no_op_once_pinned_for_life(monkeypatch) -> None:
    import contextlib

    from threadpoolctl import threadpool_limits

    from dermsim.engine import cores

    monkeypatch.setattr(cores, "_BLAS_PINNED", [])
    with cores.one_blas_thread() as limits:  # threadpoolctl's limits apply as it is made
        assert isinstance(limits, threadpool_limits)
    monkeypatch.setattr(cores, "_BLAS_PINNED", [True])
    assert isinstance(cores.one_blas_thread(), contextlib.nullcontext)


class _Libc:
    """A C library whose mallopt records its calls and takes every setting (returns 1)."""

    def __init__(self, has_mallopt: bool = True) -> None:
        self.calls: list[tuple[int, int]] = []
        if has_mallopt:
            self.mallopt = _Mallopt(self.calls)


class _Mallopt:
    def __init__(self, calls: list[tuple[int, int]]) -> None:
        self.calls, self.argtypes, self.restype = calls, None, None

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


def test_keep_freed_memory_sets_glibc_s_two_options_and_leaves_other_c_libraries(monkeypatch) -> None:
    # the settings themselves, in process with the C library faked (the real effect on a worker's
    # heap is checked in a subprocess above)
    import ctypes

    from dermsim.engine import heap

    libs: list[_Libc] = []
    monkeypatch.setattr(ctypes, "CDLL", lambda name: libs.append(_Libc()) or libs[-1])
    assert heap.keep_freed_memory() is True
    assert libs[0].calls == [(-4, 0), (-1, 2**31 - 1)]  # M_MMAP_MAX 0, M_TRIM_THRESHOLD never
    monkeypatch.setattr(ctypes, "CDLL", lambda name: _Libc(has_mallopt=False))
    assert heap.keep_freed_memory() is False
    monkeypatch.setattr(sys, "platform", "darwin")
    assert heap.keep_freed_memory() is False
