"""A cold numba cache (fresh install, upgrade, empty NUMBA_CACHE_DIR): the first compiled run
compiles the kernels in two spawned processes (model.precompile), leaves them in the disk cache,
and gives the numbers a warm run gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUN = """
import json
from dermsim.model.precompile import TOP_LEVEL_KERNELS, kernels_cached
from dermsim.model.population.sampling import sample_population
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import simulate_patients
before = kernels_cached()
tr = simulate_patients(sample_population("true-ad3", 30, 5), Regimen(strength_pct=1.5), 3, 5,
                       engine="numba", record=("easi", "cp_nM"))
# compiled in this process (numba's cache misses) or loaded from the disk cache (hits)
here = sum(sum(f.stats.cache_misses.values()) for f in TOP_LEVEL_KERNELS)
print(json.dumps({"before": before, "after": kernels_cached(), "compiled_here": here,
                  "easi": tr["easi"].tolist(), "cp": tr["cp_nM"].tolist()}))
"""


def _run(cache: Path) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", RUN], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_cold_cache_is_filled_ahead_and_gives_the_warm_numbers(tmp_path: Path) -> None:
    cold = _run(tmp_path / "numba")
    assert cold["before"] is False and cold["after"] is True
    assert cold["compiled_here"] == 0  # the spawned processes compiled them; this one loaded them
    assert any((tmp_path / "numba").rglob("*.nbi"))
    warm = _run(tmp_path / "numba")  # the same cache, now filled
    assert warm["before"] is True and warm["compiled_here"] == 0
    assert cold["easi"] == warm["easi"] and cold["cp"] == warm["cp"]
