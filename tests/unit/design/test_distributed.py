"""Dask: 2 local worker processes give the single-process numbers for the same seed."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from dermsim.design import BinomialDesign, DesignSpec, Hypothesis, simulate_operating_characteristics
from dermsim.design.distributed import open_executor
from dermsim.errors import InvalidInputError


def _square(x: int) -> int:
    return x * x


def test_local_executor_runs_in_order() -> None:
    with open_executor() as run_all:
        assert list(run_all((_square, (i,), {}) for i in range(4))) == [0, 1, 4, 9]


_FORKED = """
import os, sys
from dermsim.design.distributed import open_executor
from dermsim.engine.compiled import fork_is_safe
assert fork_is_safe()
with open_executor() as run_all:
    out = list(run_all((divmod, (i, 3), {}) for i in range(6)))
    pids = set(run_all((os.getpid, (), {}) for _ in range(8)))
print(out == [divmod(i, 3) for i in range(6)], os.getpid() not in pids, len(pids))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked pool is for Linux")
def test_local_executor_uses_a_forked_pool_per_core_and_keeps_the_order() -> None:
    # in a fresh process: this one may already run OpenMP, where the pool falls back to a loop
    done = subprocess.run([sys.executable, "-c", _FORKED], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    in_order, elsewhere, n_pids = done.stdout.split()
    assert in_order == "True"
    assert elsewhere == "True" or (os.cpu_count() or 1) < 2
    assert 1 <= int(n_pids) <= (os.cpu_count() or 1)  # which process takes which call is the OS's choice


_FROM_A_THREAD = """
import os, threading
from dermsim.design.distributed import open_executor
from dermsim.engine.compiled import fork_is_safe
assert fork_is_safe()
pids = []
def job():
    with open_executor() as run_all:
        pids.extend(run_all((os.getpid, (), {}) for _ in range(4)))
t = threading.Thread(target=job)
t.start()
t.join()
print(pids == [os.getpid()] * 4)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked pool is for Linux")
def test_local_executor_called_from_a_side_thread_does_not_fork() -> None:
    # the web app runs designs in job threads beside the server's main thread
    done = subprocess.run([sys.executable, "-c", _FROM_A_THREAD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]


def test_executor_arguments_are_checked() -> None:
    with (
        pytest.raises(InvalidInputError, match="exclude each other"),
        open_executor(workers=2, scheduler="tcp://x:1"),
    ):
        pass
    with (
        pytest.raises(InvalidInputError, match="scheduler must be an address"),
        open_executor(scheduler="x:1"),
    ):
        pass


@pytest.mark.slow
def test_two_local_dask_workers_equal_one_process() -> None:
    """... and the workers' one-thread settings stay in the workers: Dask's nanny writes them into
    the parent's environment, where numba would read NUMBA_NUM_THREADS=1 at its next compile and
    raise once its threads run with another count."""
    before = {k: os.environ.get(k) for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")}
    model = DesignSpec(id="m", n_total=40, endpoints=["iga_ts"])
    binom = BinomialDesign(
        id="b",
        n_total=200,
        arms=["t", "c"],
        ratio=[1, 1],
        rates={"iga_ts": [0.4, 0.3]},
        hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")],
    )
    kw = {"replicate_block": 2, "chunk_size": 2}
    local = simulate_operating_characteristics("true-ad3", [model, binom], 6, 5, **kw).results
    dask = simulate_operating_characteristics("true-ad3", [model, binom], 6, 5, workers=2, **kw).results
    pd.testing.assert_frame_equal(dask, local)
    assert {k: os.environ.get(k) for k in before} == before
