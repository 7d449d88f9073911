"""DuckDB store: chunks commit whole, a SIGKILLed run resumes to exactly the uninterrupted table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.design import BinomialDesign, Hypothesis, ResultStore, simulate_operating_characteristics
from dermsim.design.runner import plan_chunks
from dermsim.errors import InvalidInputError

HYPS = [
    Hypothesis(endpoint="iga_ts", treatment="t", control="c"),
    Hypothesis(endpoint="easi75", treatment="t", control="c"),
]


def _designs() -> list[BinomialDesign]:
    return [
        BinomialDesign(
            id=f"b{n}",
            n_total=n,
            arms=["t", "c"],
            ratio=[1, 1],
            rates={"iga_ts": [0.4, 0.25], "easi75": [0.5, 0.3]},
            hypotheses=HYPS,
        )
        for n in (100, 200)
    ]


def test_plan_chunks_cuts_at_chunk_multiples() -> None:
    assert plan_chunks(np.arange(10), 4) == [(0, 4), (4, 8), (8, 10)]
    assert plan_chunks([1, 2, 5, 6, 7, 9], 4) == [(1, 3), (5, 8), (9, 10)]
    assert plan_chunks([], 4) == []


def test_resume_computes_only_missing_replicates(tmp_path: Path) -> None:
    full = simulate_operating_characteristics(None, _designs(), 60, 3, replicate_block=10, chunk_size=20)
    db = tmp_path / "x.duckdb"
    with ResultStore(db) as st:
        st.begin_run(
            designs=_designs(),
            n_replicates=60,
            seed=np.random.SeedSequence(3),
            replicate_block=10,
            scenario=None,
            parameters="prior (model defaults)",
            resume=False,
        )
        # a partial run: some chunks of the first design only
        part = full.results
        st.insert_chunk(part[(part["design_id"] == "b100") & part["replicate"].between(20, 39)])
        with pytest.raises(Exception, match=r"(?i)constraint|duplicate|primary key"):
            st.insert_chunk(part[(part["design_id"] == "b100") & (part["replicate"] == 25)])
        assert st.replicates("b100").tolist() == list(range(20, 40))
    calls: list[tuple[int, int]] = []
    resumed = simulate_operating_characteristics(
        None,
        _designs(),
        60,
        3,
        replicate_block=10,
        chunk_size=20,
        store=db,
        resume=True,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (20, 120)  # the 20 stored replicates count as done from the start
    pd.testing.assert_frame_equal(resumed.results, full.results, check_dtype=False)


def test_store_refuses_a_second_run_or_a_changed_setup(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    simulate_operating_characteristics(None, _designs(), 20, 3, replicate_block=10, store=db)
    with pytest.raises(InvalidInputError, match="already holds a run"):
        simulate_operating_characteristics(None, _designs(), 20, 3, replicate_block=10, store=db)
    with pytest.raises(InvalidInputError, match="seed must match"):
        simulate_operating_characteristics(None, _designs(), 20, 4, replicate_block=10, store=db, resume=True)
    with pytest.raises(InvalidInputError, match="replicate_block must match"):
        simulate_operating_characteristics(None, _designs(), 20, 3, replicate_block=5, store=db, resume=True)
    # more replicates extend the run
    more = simulate_operating_characteristics(
        None, _designs(), 30, 3, replicate_block=10, store=db, resume=True
    )
    assert more.results.groupby("design_id")["replicate"].nunique().tolist() == [30, 30]


def test_parquet_export_equals_store(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    run = simulate_operating_characteristics(None, _designs(), 20, 3, replicate_block=10, store=db)
    with ResultStore(db) as st:
        path = st.export_parquet(tmp_path / "r.parquet")
        assert [d.id for d in st.designs()] == ["b100", "b200"]
        assert st.run_info()["replicate_block"] == 10
    pd.testing.assert_frame_equal(pd.read_parquet(path), run.results, check_dtype=False)


_CHILD = textwrap.dedent("""
    import sys
    from dermsim.design import BinomialDesign, Hypothesis, simulate_operating_characteristics
    hyps = [Hypothesis(endpoint="iga_ts", treatment="t", control="c"),
            Hypothesis(endpoint="easi75", treatment="t", control="c")]
    designs = [BinomialDesign(id=f"b{n}", n_total=n, arms=["t", "c"], ratio=[1, 1],
                              rates={"iga_ts": [0.4, 0.25], "easi75": [0.5, 0.3]}, hypotheses=hyps)
               for n in (100, 200)]
    def progress(done, total):
        print(done, flush=True)
    simulate_operating_characteristics(None, designs, N, 3, replicate_block=10, chunk_size=10,
                                       store=sys.argv[1], resume=True, progress=progress)
""")


@pytest.mark.parametrize(
    "delay_s", [0.0, pytest.param(0.013, marks=pytest.mark.slow), pytest.param(0.037, marks=pytest.mark.slow)]
)
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path: Path, delay_s: float) -> None:
    n_rep = 300
    db = tmp_path / "killed.duckdb"
    script = tmp_path / "child.py"
    script.write_text(_CHILD.replace("N,", f"{n_rep},"), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if int(line) >= 60:  # well under way: chunks committed, more to come
                break
        time.sleep(delay_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with ResultStore(db) as st:
        stored = sum(st.replicates(d.id).size for d in _designs())
    assert 0 < stored < 2 * n_rep, "the kill must land mid-run"
    resumed = simulate_operating_characteristics(
        None, _designs(), n_rep, 3, replicate_block=10, chunk_size=10, store=db, resume=True
    )
    full = simulate_operating_characteristics(None, _designs(), n_rep, 3, replicate_block=10, chunk_size=70)
    assert len(resumed.results) == 2 * n_rep * 2
    pd.testing.assert_frame_equal(resumed.results, full.results, check_dtype=False)
