"""Where chunks run: this process, a local Dask cluster (``workers``) or a running one (``scheduler``).

:func:`open_executor` yields ``run_all(calls)``: it takes ``(fn, args, kwargs)`` triples and yields
their results as they complete. Locally (neither given) the calls run in a pool of forked
processes, one per core, each running the compiled engine on one thread (a single process would
leave a core idle during the NumPy parts of a chunk: population draws, noise, scores); where fork
is not safe (no fork on the platform, OpenMP already running in this process, see
:func:`dermsim.engine.compiled.fork_is_safe`, or a call from a thread other than the main one, as
in the web app's job threads) or there is one call, a loop. On Dask every call is
a task, at most ``2 x workers`` in flight so a long run holds few results in memory, and results come back to
this process, which alone writes the store. Results do not depend on where a chunk ran (streams
are keyed by replicate block, :mod:`dermsim.design.replicate`).

Local clusters use processes with one thread each and pin BLAS to one thread inside every task
(threadpoolctl, :func:`dermsim.engine.cores.one_blas_thread`): two BLAS pools per core were
seen to slow stacked solves more than fivefold on a 2-core machine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dermsim._validate import check_int
from dermsim.errors import InvalidInputError

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
RunAll = Callable[[Iterable[Call]], Iterator[Any]]


def _quiet(cls: type) -> type:
    """``cls`` (a Dask Scheduler or Worker) without its HTTP server.

    Dask starts an HTTP server in the scheduler (port 8787 by default) and in every worker even
    with ``dashboard_address=None`` (it serves health and metrics routes); a local cluster is a
    private tool of this process, so here the server is created but never listens."""
    from distributed.http.routing import RoutingApplication
    from tornado.httpserver import HTTPServer

    def start_http_server(self, routes, dashboard_address, default_port=0, ssl_options=None):
        self.http_application = RoutingApplication([])
        self.http_server = HTTPServer(self.http_application)

    return type(f"Quiet{cls.__name__}", (cls,), {"start_http_server": start_http_server,
                                                 "__module__": __name__})


def _quiet_worker_class() -> type:
    from distributed import Worker

    return _quiet(Worker)


class _QuietWorkerFactory:
    """Picklable stand-in for the worker class in the nanny's child process."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _quiet_worker_class()(*args, **kwargs)


def _local_cluster(n: int, dashboard: bool) -> Any:
    """A scheduler and ``n`` one-thread worker processes, all on 127.0.0.1 (never another
    interface), with no HTTP server unless ``dashboard`` asks for one (then on 127.0.0.1 too)."""
    from distributed import Nanny, Scheduler, SpecCluster

    host = "127.0.0.1"
    scheduler_cls = Scheduler if dashboard else _quiet(Scheduler)
    scheduler = {"cls": scheduler_cls, "options": {
        "host": host, "port": 0, "protocol": "tcp://",
        "dashboard_address": f"{host}:0" if dashboard else None, "dashboard": dashboard}}
    worker = {"cls": Nanny, "options": {
        "nthreads": 1, "host": host, "dashboard_address": None, "silence_logs": 40,
        "worker_class": _QuietWorkerFactory}}
    # Dask's nanny writes into this process's own environment before it spawns a worker and leaves
    # it there: its pre-spawn variables (OPENBLAS_NUM_THREADS=1, NUMBA_NUM_THREADS=1, ...), a
    # random PYTHONHASHSEED and __DASK_PARENT_PID. numba re-reads NUMBA_NUM_THREADS at every later
    # compile and raises once its threads run with another count, and later subprocesses would
    # inherit the rest; so the environment is put back whole once the workers exist.
    saved = dict(os.environ)
    try:
        return SpecCluster(scheduler=scheduler, workers={i: worker for i in range(n)}, worker=worker,
                           silence_logs=40, name="dermsim-local")
    finally:
        for k in set(os.environ) - set(saved):
            del os.environ[k]
        os.environ.update(saved)


_FORKED_CALLS: list[Call] = []  # the calls of the running local pool (its processes inherit them)


def _call_at(i: int) -> Any:
    fn, args, kwargs = _FORKED_CALLS[i]
    return fn(*args, **kwargs)


def _run_local(calls: Iterable[Call]) -> Iterator[Any]:
    """The calls' results in order, from a pool of forked processes when that is safe (module
    docstring); the calls reach the processes by inheritance, not pickling."""
    import multiprocessing as mp
    import sys
    import threading

    from dermsim.engine.compiled import fork_is_safe, forked_pool

    calls = list(calls)
    processes = min(os.cpu_count() or 1, len(calls))
    if processes < 2 or _FORKED_CALLS or not sys.platform.startswith("linux") \
            or "fork" not in mp.get_all_start_methods() or not fork_is_safe() \
            or threading.current_thread() is not threading.main_thread():
        # a fork copies only the calling thread: called from a side thread (a server's job) while
        # the main thread may hold a lock (logging, stdout, an import), the children could wait on
        # it forever
        for fn, args, kwargs in calls:
            yield fn(*args, **kwargs)
        return
    _FORKED_CALLS[:] = calls
    try:
        with forked_pool(processes, "design") as pool:
            yield from pool.imap(_call_at, range(len(calls)))
    finally:
        _FORKED_CALLS.clear()


def _run_dask(client: Any, n_slots: int) -> RunAll:
    from distributed import as_completed

    def run_all(calls: Iterable[Call]) -> Iterator[Any]:
        it = iter(calls)
        pending = as_completed()
        for _ in range(max(1, 2 * n_slots)):
            nxt = next(it, None)
            if nxt is None:
                break
            fn, args, kwargs = nxt
            pending.add(client.submit(fn, *args, pure=False, **kwargs))
        for fut in pending:
            result = fut.result()
            fut.release()
            nxt = next(it, None)
            if nxt is not None:
                fn, args, kwargs = nxt
                pending.add(client.submit(fn, *args, pure=False, **kwargs))
            yield result

    return run_all


@contextlib.contextmanager
def open_executor(
    *, workers: int | None = None, scheduler: str | None = None, dashboard: bool = False
) -> Iterator[RunAll]:
    """Context yielding ``run_all`` (module docstring). ``workers`` and ``scheduler`` exclude each other;
    neither given runs on this machine's cores (a forked pool, or this process)."""
    if workers is not None and scheduler is not None:
        raise InvalidInputError("workers and scheduler exclude each other; got both.")
    if workers is None and scheduler is None:
        yield _run_local
        return
    from distributed import Client

    if scheduler is not None:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise InvalidInputError(
                f"scheduler must be an address such as tcp://HOST:8786; got {scheduler!r}."
            )
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise InvalidInputError(f"scheduler {scheduler} did not answer within 30 s ({exc}).") from exc
        try:
            n = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
            yield _run_dask(client, n)
        finally:
            client.close()
        return
    n = check_int("workers", workers, minimum=1)
    import dask.config

    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in workers, which turns off glibc's adaptive
    # mmap threshold: every temporary array above 128 KiB is then mmapped and unmapped, page
    # faults included, and this many-small-arrays integrator ran 2-3x slower in a worker than in
    # the parent (measured). Workers keep glibc's defaults; BLAS/OpenMP pools stay at one thread.
    environ = {
        k: v
        for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
        if not k.startswith("MALLOC_")
    }
    # NUMBA_NUM_THREADS: each worker runs the compiled engine kernel single-threaded (one worker per core)
    environ.update({"OMP_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
                    "NUMBA_NUM_THREADS": 1})
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = _local_cluster(n, dashboard)  # which puts this process's environment back
    client = Client(cluster)
    try:
        yield _run_dask(client, n)
    finally:
        client.close()
        cluster.close()
