"""model.precompile: a process that would compile the kernels on one core compiles them first on
two (spawned processes, into numba's disk cache), once, and only where that can help."""

from __future__ import annotations

import pytest

from dermsim.model import precompile


@pytest.fixture
def fresh(monkeypatch):
    """A process that has not checked yet, on two cores, with a cold cache; records the compiles."""
    calls: list[str] = []
    monkeypatch.setattr(precompile, "_CHECKED", [])
    monkeypatch.setattr(precompile, "default_workers", lambda: 2)
    monkeypatch.setattr(precompile, "kernels_cached", lambda: False)
    monkeypatch.setattr(precompile, "compile_kernels", lambda: calls.append("compile") or 1.0)
    return calls


def test_a_cold_cache_is_compiled_ahead_once_per_process(fresh):
    precompile.ensure_compiled()
    precompile.ensure_compiled()
    assert fresh == ["compile"]


def test_a_warm_cache_or_a_worker_sharing_the_cores_compiles_nothing_ahead(fresh, monkeypatch):
    monkeypatch.setattr(precompile, "kernels_cached", lambda: True)
    precompile.ensure_compiled()
    monkeypatch.setattr(precompile, "_CHECKED", [])
    monkeypatch.setattr(precompile, "kernels_cached", lambda: False)
    monkeypatch.setattr(precompile, "default_workers", lambda: 1)  # a pinned or Dask worker
    precompile.ensure_compiled()
    assert fresh == []


def test_a_failed_head_start_leaves_the_run_to_compile_for_itself(fresh, monkeypatch):
    def broken() -> float:
        fresh.append("compile")
        raise OSError("no processes left")

    monkeypatch.setattr(precompile, "compile_kernels", broken)
    precompile.ensure_compiled()  # no exception: the run compiles what it needs itself
    precompile.ensure_compiled()
    assert fresh == ["compile"]  # tried once, not again before every run of the process


@pytest.mark.skipif(not precompile.HAVE_NUMBA, reason="numba is not installed")
def test_warm_up_compiles_ahead_then_loads_the_kernels_here_unless_runs_take_numpy(fresh, monkeypatch):
    from dermsim.model import simulate

    courses: list[tuple] = []
    monkeypatch.setattr(simulate, "simulate_patients", lambda *a, **k: courses.append(a))
    monkeypatch.setenv("DERMSIM_ENGINE", "numpy")
    precompile.warm_up()
    assert fresh == [] and courses == []
    monkeypatch.setenv("DERMSIM_ENGINE", "numba")
    precompile.warm_up()
    assert fresh == ["compile"] and len(courses) == 1  # compiled on two cores, then loaded by a course
    assert courses[0][0].n == 20 and courses[0][2] == 2  # 20 patients, 2 days: the load, not a run
