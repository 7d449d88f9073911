"""The compiled backend: numba where it is installed, the NumPy reference path where it is not.

* :func:`resolve_backend` chooses "numba" or "numpy": an explicit choice wins, then the
  environment variable ``DERMSIM_ENGINE`` (numba/numpy), then numba if it imports;
* :func:`kernel_threads` runs compiled kernels on a given number of threads (default: all cores
  numba sees); chunk worker threads run kernels side by side where numba's threading layer allows
  it (omp, tbb), and one at a time where it does not (workqueue);
* :func:`transitions` computes the exact transition matrices expm(K h) of every patient for several
  step lengths in compiled code (the same scaling-and-squaring Taylor method as
  :func:`dermsim.engine.linear.expm_batched`, patient by patient with the patients in SIMD lanes
  instead of a stack of NumPy matmuls, which is where the NumPy path spent its set-up time).

``njit``/``prange`` fall back to the plain Python function/``range`` without numba, so modules that
define kernels import everywhere; callers use the kernels only when the backend is "numba".
Compiled functions use ``cache=True``: the machine code goes to ``__pycache__`` beside the source
(or numba's per-user cache directory when the package directory is read-only), so only the first
call after installation compiles.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from dermsim.engine.cores import in_dask_worker, pin_blas_threads, pin_default_threads, pinned_threads
from dermsim.engine.heap import keep_freed_memory
from dermsim.engine.linear import TAYLOR_COEFFICIENTS, feeding_states
from dermsim.errors import DermsimError, InvalidInputError


def f64_bits_py(x: float) -> int:
    """The IEEE-754 bits of a float as an int, in Python (the intrinsic's fallback, and what tests
    run the kernels' source with)."""
    return struct.unpack("<q", struct.pack("<d", x))[0]


def f64_from_bits_py(b: int) -> float:
    """The float whose IEEE-754 bits are the int ``b``, in Python."""
    return struct.unpack("<d", struct.pack("<q", int(b)))[0]


try:  # numba is a dependency, but the NumPy path must work where it cannot be installed
    import numba
    from llvmlite import ir as llvm_ir
    from numba import njit, prange, types
    from numba.extending import intrinsic

    @intrinsic
    def f64_bits(typingctx, x):
        """The IEEE-754 bits of a float64 as an int64 (a bitcast in compiled code, no arithmetic)."""
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], llvm_ir.IntType(64))
        return types.int64(types.float64), codegen

    @intrinsic
    def f64_from_bits(typingctx, x):
        """The float64 whose IEEE-754 bits are the int64 ``x``."""
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], llvm_ir.DoubleType())
        return types.float64(types.int64), codegen

except ImportError:  # pragma: no cover - exercised only on platforms without numba
    numba = None

    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda fn: fn

    prange = range

    f64_bits, f64_from_bits = f64_bits_py, f64_from_bits_py  # pyright: ignore[reportAssignmentType]  # the intrinsics' Python fallback

HAVE_NUMBA = numba is not None
BACKENDS = ("auto", "numba", "numpy")
ENV_BACKEND = "DERMSIM_ENGINE"
_LOCK = threading.RLock()


def resolve_backend(backend: str | None = "auto") -> str:
    """"numba" or "numpy" for a requested backend (module docstring)."""
    choice = "auto" if backend is None else str(backend).strip().lower()
    if choice not in BACKENDS:
        raise InvalidInputError(f"engine backend must be one of {', '.join(BACKENDS)}; got {backend!r}.")
    if choice == "auto":
        env = os.environ.get(ENV_BACKEND, "").strip().lower()
        if env:
            if env not in BACKENDS:
                raise InvalidInputError(f"{ENV_BACKEND} must be one of {', '.join(BACKENDS)}; got {env!r}.")
            choice = env
    if choice == "numba" and not HAVE_NUMBA:
        if backend not in (None, "auto"):
            raise InvalidInputError("engine backend 'numba' needs the numba package; it is not installed.")
        return "numpy"
    if choice == "auto":
        return "numba" if HAVE_NUMBA else "numpy"
    return choice


def max_threads() -> int:
    """Threads a compiled kernel may use in this process (numba's pool size, else the CPU count)."""
    if HAVE_NUMBA:
        return int(numba.config.NUMBA_NUM_THREADS)  # pyright: ignore[reportPrivateImportUsage]  # numba.config is public API but not re-exported in its stubs
    return os.cpu_count() or 1


def default_threads() -> int:
    """Threads of a kernel call that names none: all, or 1 inside a Dask worker, or what
    :func:`~dermsim.engine.cores.pin_default_threads` set."""
    pinned = pinned_threads()
    if pinned is not None:
        return pinned
    return 1 if in_dask_worker() else max_threads()


def _layer_is_thread_safe() -> bool:
    """True once a parallel kernel has run on a threading layer that may be entered from several
    threads at once (numba's "tbb" and "omp"; its fallback "workqueue" may not)."""
    try:
        return numba.threading_layer() in ("omp", "tbb")  # pyright: ignore[reportPrivateImportUsage]  # public numba API, not re-exported in its stubs
    except ValueError:  # no parallel kernel has run yet: the layer is not chosen
        return False


@contextlib.contextmanager
def kernel_threads(threads: int | None = None) -> Iterator[None]:
    """Run the compiled kernels of the block on ``threads`` threads (None: :func:`default_threads`).
    numba's thread count is per calling thread, so chunk worker threads can each run kernels on
    their own count side by side; calls are made one at a time only where the threading layer is
    not thread-safe (and until the first parallel call has chosen the layer)."""
    if not HAVE_NUMBA:
        yield
        return
    want = default_threads() if threads is None else max(1, min(int(threads), max_threads()))
    with contextlib.nullcontext() if _layer_is_thread_safe() else _LOCK:
        before = numba.get_num_threads()
        numba.set_num_threads(want)
        try:
            yield
        finally:
            numba.set_num_threads(before)


def fork_is_safe() -> bool:
    """False once a compiled kernel has run on the GNU OpenMP threading layer in this process: a
    process forked after that dies ("fork() called from a process already using GNU OpenMP"), so
    worker pools that fork must be made before the first kernel call."""
    if not HAVE_NUMBA:
        return True
    try:
        return numba.threading_layer() != "omp"  # pyright: ignore[reportPrivateImportUsage]  # public numba API, not re-exported in its stubs
    except ValueError:  # no parallel kernel has run yet: the layer is not chosen
        return True


def _init_forked_worker() -> None:
    """A forked pool worker: its kernels on one thread; SIGTERM ends it at once (the default action)
    and Ctrl-C goes to the parent only, which ends the pool. A worker otherwise inherits the
    parent's SIGTERM handler, the command line's, which raises KeyboardInterrupt to remove the
    staging folders a worker does not own: in a test run a design worker outlived the pool's
    terminate() that way, blocked on the task queue's lock, and the run waited for it until the
    test timed out (the same worker ended at once on a SIGTERM sent by hand: terminate()'s own
    interrupt never took effect). Its C heap keeps the pages it frees (engine.heap), and its BLAS
    runs on one thread throughout."""
    import signal

    keep_freed_memory()
    pin_default_threads(1)
    pin_blas_threads()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def fork_worker_pool(processes: int, what: str) -> Any:
    """A pool of ``processes`` forked worker processes (they inherit the caller's prepared state),
    each running its kernels on one thread; ``what`` names the work in the refusal when a kernel
    has already run on GNU OpenMP here (see :func:`fork_is_safe`). Prefer :func:`forked_pool`,
    which ends the pool; a long-lived pool must be closed and joined by its owner."""
    import multiprocessing as mp

    if not fork_is_safe():
        raise DermsimError(f"{what} workers must start before the compiled engine first runs in this "
                           "process (OpenMP does not survive a fork); use --workers 1.")
    return mp.get_context("fork").Pool(processes, initializer=_init_forked_worker)


@contextlib.contextmanager
def forked_pool(processes: int, what: str) -> Iterator[Any]:
    """:func:`fork_worker_pool` for the length of a ``with`` block: after the block the pool is
    closed and its workers exit on their own (no signal); on any exception, the caller's
    GeneratorExit included, it is terminated. Joined either way. (``multiprocessing.Pool`` as a
    context manager terminates it in both cases, signalling any worker still waiting for work.)"""
    pool = fork_worker_pool(processes, what)
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


@njit(cache=True, nogil=True)
def fill_standard_normal(gen, width, r0, r1, c0, c1, out, o_r, o_c):
    """Rows [r0, r1) x columns [c0, c1) of a row-major (rows, ``width``) block of standard normals
    from the numpy Generator ``gen`` into ``out[o_r:, o_c:]``: numba's Generator.standard_normal is
    numpy's ziggurat number for number (a test checks), at half its cost per number on this
    machine's class, and the draws after the last wanted one are never made (engine.streams)."""
    for _ in range(r0 * width):
        gen.standard_normal()
    for r in range(r0, r1):
        stop = c1 if r == r1 - 1 else width
        for c in range(stop):
            v = gen.standard_normal()
            if c0 <= c < c1:
                out[o_r + r - r0, o_c + c - c0] = v


_LANES = 256  # patients per block of the transition kernel (a multiple of any SIMD width)


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _matmul_lanes(a, b, out, m, lower):
    """out = a b for the k x k matrices of lanes 0..m-1 ((k, k, lanes) arrays, lanes innermost so
    the loops vectorize); with ``lower`` both are lower triangular and the products skip the exact
    zeros of the upper triangle (the terms they add are exact zeros: the numbers do not change)."""
    k = a.shape[0]
    for i in range(k):
        for j in range(k):
            for ln in range(m):
                out[i, j, ln] = 0.0
            if lower and j > i:
                continue
            for r in range(j if lower else 0, i + 1 if lower else k):
                for ln in range(m):
                    out[i, j, ln] += a[i, r, ln] * b[r, j, ln]


@njit(cache=True, nogil=True, error_model="numpy")  # called, not inlined: half the compile time
def _expm_lanes(K, lo, m, t, lower, ws, s, scale):
    """expm(K t) of patients lo..lo+m-1 of the (k, k, n) stack ``K`` into ``ws[3]`` (k, k, lanes):
    linear.expm_batched's method, patient by patient (each its own scaling 2^-s so that the 1-norm
    of X = K t 2^-s is <= 1/2, the degree-13 Taylor polynomial by Paterson-Stockmeyer in the same
    order of operations, s squarings), with the patients in SIMD lanes. ``ws`` (5, k, k, lanes)
    holds X, X^2, X^3, the result and a product; ``s`` (lanes,) int64 and ``scale`` (lanes,) float
    are workspaces for the squarings and 2^s."""
    k = K.shape[0]
    x, x2, x3, e, tmp = ws[0], ws[1], ws[2], ws[3], ws[4]
    s_max = 0
    for ln in range(m):
        norm = 0.0
        for j in range(k):
            col = 0.0
            for i in range(k):
                col += abs(K[i, j, lo + ln] * t)
            norm = max(norm, col)
        s[ln] = int(np.ceil(np.log2(max(norm, 0.5) / 0.5))) if norm > 0.5 else 0
        s_max = max(s_max, s[ln])
    for ln in range(m):
        scale[ln] = 2.0 ** s[ln]
    c12, c13 = TAYLOR_COEFFICIENTS[12], TAYLOR_COEFFICIENTS[13]
    for i in range(k):
        for j in range(k):
            one = c12 if i == j else 0.0
            for ln in range(m):
                x[i, j, ln] = K[i, j, lo + ln] * t / scale[ln]
                e[i, j, ln] = one + c13 * x[i, j, ln]
    _matmul_lanes(x, x, x2, m, lower)
    _matmul_lanes(x2, x, x3, m, lower)
    for b in range(3, -1, -1):  # e = c_3b I + c_3b+1 X + c_3b+2 X^2 + X^3 e
        _matmul_lanes(x3, e, tmp, m, lower)
        c0, c1, c2 = (TAYLOR_COEFFICIENTS[3 * b], TAYLOR_COEFFICIENTS[3 * b + 1],
                      TAYLOR_COEFFICIENTS[3 * b + 2])
        for i in range(k):
            for j in range(k):
                one = c0 if i == j else 0.0
                for ln in range(m):
                    e[i, j, ln] = tmp[i, j, ln] + (one + c1 * x[i, j, ln] + c2 * x2[i, j, ln])
    for q in range(s_max):  # a lane stops squaring after its own s
        _matmul_lanes(e, e, tmp, m, lower)
        for i in range(k):
            for j in range(k):
                for ln in range(m):
                    e[i, j, ln] = tmp[i, j, ln] if q < s[ln] else e[i, j, ln]


@njit(cache=True, nogil=True, error_model="numpy", forceinline=True, _nrt=False)
def _is_lower(K, lo, m):
    """Whether the block's matrices are all lower triangular."""
    k = K.shape[0]
    for i in range(k):
        for j in range(i + 1, k):
            for ln in range(m):
                if K[i, j, lo + ln] != 0.0:
                    return False
    return True


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _transitions(K, hs, nodes, K_row, keep, eff_sub, exposure, phi, rows):
    k = K.shape[0]
    k_row = K_row.shape[0]
    n = K.shape[2]
    n_blocks = (n + _LANES - 1) // _LANES
    for blk in prange(n_blocks):
        lo = np.uint64(blk * _LANES)
        m = np.uint64(min(n, blk * _LANES + _LANES) - blk * _LANES)
        ws = np.empty((5, k, k, _LANES))
        ws_row = np.empty((5, k_row, k_row, _LANES))
        s = np.empty(_LANES, dtype=np.int64)
        scale = np.empty(_LANES)
        lower = _is_lower(K, lo, m)
        lower_row = _is_lower(K_row, lo, m)
        for a in range(hs.shape[0]):
            _expm_lanes(K, lo, m, hs[a], lower, ws, s, scale)
            for i in range(k):
                for j in range(k):
                    for ln in range(m):
                        phi[a, i, j, lo + ln] = ws[3, i, j, ln]
            for q in range(nodes.shape[0]):
                _expm_lanes(K_row, lo, m, nodes[q] * hs[a], lower_row, ws_row, s, scale)
                for j in range(k):
                    for ln in range(m):
                        rows[a, q, j, lo + ln] = 0.0
                for jj in range(k_row):
                    j = keep[jj]
                    for ln in range(m):
                        rows[a, q, j, lo + ln] = ws_row[3, eff_sub, jj, ln] * exposure[lo + ln]


def transitions(K: np.ndarray, hs: np.ndarray, nodes: np.ndarray, eff_row: int,
                exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transition matrices of the rate matrices ``K`` (k, k, n), compiled and patient-minor:
    (expm(K h) (len(hs), k, k, n), exposure x row ``eff_row`` of expm(K c h)
    (len(hs), len(nodes), k, n)) for each step length h in ``hs`` and quadrature node c in
    ``nodes``; ``exposure`` (n,) scales the rows (pk.compute_exposure_rows)."""
    K = np.ascontiguousarray(K, dtype=float)
    hs = np.ascontiguousarray(hs, dtype=float)
    nodes = np.ascontiguousarray(nodes, dtype=float)
    exposure = np.array(np.broadcast_to(exposure, K.shape[2:]), dtype=float)  # writable: one signature
    k, _, n = K.shape
    # row eff_row of expm(K t) involves only the states that feed it: the exponential of that
    # subsystem (4 of the 5 PK states) gives it exactly, at about half the cost
    keep = feeding_states(K, int(eff_row))
    K_row = np.ascontiguousarray(K[np.ix_(keep, keep)])
    phi = np.empty((hs.size, k, k, n))
    rows = np.empty((hs.size, nodes.size, k, n))
    _transitions(K, hs, nodes, K_row, keep, int(np.searchsorted(keep, eff_row)), exposure, phi, rows)
    if not (np.all(np.isfinite(phi)) and np.all(np.isfinite(rows))):
        from dermsim.errors import SolverError

        raise SolverError("transition matrix is not finite; check the rate constants.")
    return phi, rows
