"""Dask: 2 local worker processes give the single-process numbers for the same seed."""

from __future__ import annotations

import os

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
