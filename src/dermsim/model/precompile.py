"""The compiled engine's first run on a cold numba cache compiles on two cores instead of one.

A process that runs the compiled engine with nothing in numba's disk cache (a fresh install, an
upgrade, an empty ``NUMBA_CACHE_DIR``) compiles the kernels itself, about 30 s on one core: numba
compiles under one lock per process. Three top-level kernels hold nearly all of that time (the
baseline steady state about half, then the day kernel, then the transition matrices) and none
calls another, so two spawned processes compile them side by side, each running a short course,
and write them to the disk cache; this process, and the workers it forks or starts, then load them
from there. ``make test`` warms the cache the same way (``scripts/warm_numba_cache.py``).

Nothing changes but the time: the kernels are the same machine code however they were compiled,
and where the cache cannot be read or written, or this process is one of several sharing the cores
(a pinned or Dask worker), each process compiles for itself as before.
"""

from __future__ import annotations

import pickle
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

from dermsim.engine.compiled import HAVE_NUMBA, _transitions
from dermsim.engine.cores import default_workers
from dermsim.model import kernel

# the kernels that hold nearly all of the compile time; none calls another
TOP_LEVEL_KERNELS = (kernel._solve_baseline, kernel.advance_day, _transitions)
_LOCK = threading.Lock()
_CHECKED: list[bool] = []  # once per process


def kernels_cached() -> bool:
    """True when numba's disk cache holds a current entry of each top-level kernel, or when that
    cannot be told (no numba, caching off): then there is nothing to compile ahead."""
    if not HAVE_NUMBA:
        return True
    for dispatcher in TOP_LEVEL_KERNELS:
        try:
            # numba's own index check: empty when the index is missing, from another numba version
            # or stale against the source file's stamp (FunctionCache has no public query for it)
            current = dispatcher._cache._cache_file._load_index()
        except (AttributeError, OSError, EOFError, ValueError, pickle.UnpicklingError):
            return True  # no cache to query, or one numba will not read either
        if not current:
            return False
    return True


def _course(compiled_part: str) -> None:
    """A short drug course that compiles ``compiled_part`` of the engine: "baseline" (the steady
    state) or "days" (transition matrices, step constants, the day kernel); their argument types
    never vary (see kernel.DayKernel). The swap is this (spawned) process's only."""
    from dermsim.model.disease import dynamics

    _CHECKED.append(True)  # this process is the compiling one
    if compiled_part == "baseline":
        dynamics.solve_baseline = lambda dp, ip: kernel.solve_baseline(dp, ip, threads=1)
        engine = "numpy"
    else:
        kernel.solve_baseline = lambda dp, ip, threads=None: dynamics.solve_baseline(dp, ip)
        engine = "numba"
    _short_course(engine=engine, threads=1)


def _short_course(**options: Any) -> None:
    """20 patients on 1.5 % cream for 2 days: every compiled function of a run, called once
    (``options`` for simulate_patients)."""
    from dermsim.model.pharmacology.regimen import Regimen
    from dermsim.model.population.sampling import sample_population
    from dermsim.model.simulate import simulate_patients

    simulate_patients(sample_population("true-ad3", 20, seed=1), Regimen(strength_pct=1.5), 2, seed=1,
                      **options)


def compile_kernels() -> float:
    """Compile the kernels into numba's disk cache in two spawned processes; the seconds it took."""
    t0 = time.perf_counter()
    # spawned, not forked: numba's threading layer is not safe to fork, and this may run in a thread
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        for done in [pool.submit(_course, part) for part in ("baseline", "days")]:
            done.result()
    return time.perf_counter() - t0


def ensure_compiled() -> None:
    """Before this process's first compiled run: compile the kernels on two cores when numba's disk
    cache lacks them and this process may use two cores (once per process)."""
    with _LOCK:
        if _CHECKED:
            return
        _CHECKED.append(True)
        if default_workers() < 2 or kernels_cached():
            return
        try:
            compile_kernels()
        except Exception:  # any failure here only loses the head start: the run compiles for itself
            return


def warm_up() -> None:
    """Ready the compiled engine in a long-running process (the web app) before its first run:
    compile the kernels where numba's disk cache lacks them (:func:`ensure_compiled`), then load
    them into this process with a short course. Nothing where runs would not use the compiled engine
    (no numba, DERMSIM_ENGINE=numpy)."""
    from dermsim.engine.compiled import resolve_backend

    if resolve_backend("auto") != "numba":
        return
    ensure_compiled()
    _short_course()
