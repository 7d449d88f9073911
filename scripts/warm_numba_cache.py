"""Compile the engine's kernels into numba's on-disk cache (``__pycache__`` beside the source).

``make test`` runs this beside the type check, one core each, on a fresh checkout: otherwise each
pytest worker, and each command-line subprocess started before the cache is written, compiles the
same kernels itself (about a minute each on a 2-core machine). The tests run the same machine code
either way; the engine bench measures the cold start separately, with an empty cache directory.
"""

from __future__ import annotations

import time

from dermsim.engine.compiled import HAVE_NUMBA


def main() -> None:
    if not HAVE_NUMBA:
        print("warm_numba_cache: numba is not installed; nothing to compile")
        return
    from dermsim.model.pharmacology.regimen import Regimen
    from dermsim.model.population.sampling import sample_population
    from dermsim.model.simulate import simulate_patients

    t0 = time.perf_counter()
    # a drug course touches every compiled function: baseline steady state, transition matrices,
    # step constants and the day kernel (their argument types never vary: see DayKernel)
    simulate_patients(sample_population("true-ad3", 20, seed=1), Regimen(strength_pct=1.5), 2, seed=1,
                      engine="numba", threads=1)
    print(f"warm_numba_cache: kernels compiled and cached in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
