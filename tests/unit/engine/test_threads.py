"""Kernel thread defaults: all cores, one inside a pinned worker process, and the fork check."""

from __future__ import annotations

import pytest

from dermsim.engine import compiled, cores


@pytest.fixture
def unpinned():
    saved = list(cores._PINNED)
    yield
    cores._PINNED[:] = saved


def test_pinned_process_runs_kernels_on_the_pinned_count(unpinned: None) -> None:
    assert compiled.default_threads() == compiled.max_threads()
    cores.pin_default_threads(1)
    assert compiled.default_threads() == 1
    cores.pin_default_threads(0)  # never below one thread
    assert compiled.default_threads() == 1


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="numba is not installed")
def test_fork_is_unsafe_only_after_an_openmp_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    def not_chosen() -> str:
        raise ValueError("Threading layer is not initialized.")

    monkeypatch.setattr(numba, "threading_layer", not_chosen)
    assert compiled.fork_is_safe()
    monkeypatch.setattr(numba, "threading_layer", lambda: "omp")
    assert not compiled.fork_is_safe()
    monkeypatch.setattr(numba, "threading_layer", lambda: "workqueue")
    assert compiled.fork_is_safe()
