"""Calibration worker pools fork; after a compiled kernel ran on GNU OpenMP a fork dies, so the
Evaluator refuses with one clear message instead of hanging on dead workers."""

from __future__ import annotations

import pytest

from dermsim.calibration.laplace import Evaluator
from dermsim.engine.compiled import HAVE_NUMBA, fork_is_safe
from dermsim.errors import DermsimError


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")
def test_workers_after_an_openmp_kernel_are_refused() -> None:
    import numba

    from dermsim.model.pharmacology.regimen import Regimen
    from dermsim.model.population.sampling import sample_population
    from dermsim.model.simulate import simulate_patients

    simulate_patients(sample_population("true-ad3", 300, 1), Regimen(strength_pct=1.5), 1, 1, engine="numba")
    if numba.threading_layer() == "omp":
        assert not fork_is_safe()
        with pytest.raises(DermsimError, match="before the compiled engine first runs"):
            Evaluator(object(), workers=2)  # type: ignore[arg-type]
    else:  # workqueue or TBB survive a fork: the pool starts
        assert fork_is_safe()
        Evaluator(object(), workers=2).close()  # type: ignore[arg-type]
