"""Compile the engine's kernels into numba's on-disk cache (``__pycache__`` beside the source).

``make test`` runs this before the tests on a fresh checkout: otherwise each pytest worker, and each
command-line subprocess started before the cache is written, compiles the same kernels itself (about
a minute each on a 2-core machine). The tests run the same machine code either way; the engine bench
measures the cold start separately, with an empty cache directory.

Three top-level kernels hold nearly all of the compile time (on a 2-core machine: the baseline
steady state about 30 s, the day kernel about 17 s, the transition matrices about 12 s) and none
calls another, so two processes compile them side by side, each running a short course: one through
the NumPy engine with the compiled baseline swapped in, the other through the compiled engine with
the NumPy baseline swapped in.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from dermsim.engine.compiled import HAVE_NUMBA


def _drug_course(compiled_part: str) -> None:
    """A short drug course that compiles ``compiled_part`` of the engine: "baseline" (the steady
    state) or "days" (transition matrices, step constants, the day kernel); their argument types never
    vary (see DayKernel). The swap is this process's only."""
    from dermsim.model import kernel
    from dermsim.model.disease import dynamics
    from dermsim.model.pharmacology.regimen import Regimen
    from dermsim.model.population.sampling import sample_population
    from dermsim.model.simulate import simulate_patients

    if compiled_part == "baseline":
        dynamics.solve_baseline = lambda dp, ip: kernel.solve_baseline(dp, ip, threads=1)
        engine = "numpy"
    else:
        kernel.solve_baseline = lambda dp, ip, threads=None: dynamics.solve_baseline(dp, ip)
        engine = "numba"
    simulate_patients(sample_population("true-ad3", 20, seed=1), Regimen(strength_pct=1.5), 2, seed=1,
                      engine=engine, threads=1)


def main() -> None:
    if not HAVE_NUMBA:
        print("warm_numba_cache: numba is not installed; nothing to compile")
        return
    t0 = time.perf_counter()
    # spawned, not forked: numba's threading layer is not safe to fork
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        for done in [pool.submit(_drug_course, part) for part in ("baseline", "days")]:
            done.result()
    print(f"warm_numba_cache: kernels compiled and cached in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
