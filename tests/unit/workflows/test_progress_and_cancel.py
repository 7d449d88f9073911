"""The workflows' progress protocol and cancellation: a cancelled run leaves nothing behind, a
cancelled design study keeps its committed chunks and resumes to the same numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dermsim.design import BinomialDesign, Hypothesis
from dermsim.errors import DermsimError
from dermsim.workflows import (
    NO_PROGRESS,
    Cancelled,
    CancelToken,
    DesignOptions,
    NullProgress,
    Progress,
    run_design_study,
    run_virtual_trial,
)


class Recorder:
    """A Progress that records its calls and cancels ``token`` at the ``cancel_at``-th call."""

    def __init__(self, token: CancelToken | None = None, cancel_at: int | None = None) -> None:
        self.calls: list[tuple] = []
        self.token, self.cancel_at = token, cancel_at

    def _seen(self, *call: object) -> None:
        self.calls.append(call)
        if self.token is not None and self.cancel_at is not None and len(self.calls) >= self.cancel_at:
            self.token.cancel()

    def start(self, total: int | None, label: str) -> None:
        self._seen("start", total, label)

    def advance(self, n: int = 1) -> None:
        self._seen("advance", n)

    def done(self, info: str = "") -> None:
        self._seen("done", info)


def test_protocol_and_token() -> None:
    assert isinstance(NO_PROGRESS, Progress) and isinstance(NullProgress(), Progress)
    assert isinstance(Recorder(), Progress)
    tok = CancelToken()
    tok.check()  # not cancelled: nothing happens
    tok.cancel()
    assert tok.cancelled
    with pytest.raises(Cancelled, match="cancelled"):
        tok.check()
    assert issubclass(Cancelled, DermsimError)  # the CLI shows it as one line, exit 2


def _designs(n_values: tuple[int, ...] = (100, 200)) -> list[BinomialDesign]:
    return [BinomialDesign(id=f"n{n}", n_total=n, arms=["t", "c"], ratio=[1, 1],
                           rates={"iga_ts": [0.45, 0.3]},
                           hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")])
            for n in n_values]


def test_design_study_cancel_keeps_chunks_and_resume_gives_the_same_numbers(tmp_path: Path) -> None:
    opt = DesignOptions(replicates=600, seed=7, chunk_size=100, replicate_block=50, parameters="prior")
    full = run_design_study(None, _designs(), tmp_path / "full", opt, title="t")
    assert full.designs["n_replicates"].tolist() == [600, 600]

    tok = CancelToken()
    rec = Recorder(tok, cancel_at=3)  # start, advance, advance -> cancel after two chunks
    with pytest.raises(Cancelled):
        run_design_study(None, _designs(), tmp_path / "cut", opt, title="t", progress=rec, cancel=tok)
    assert rec.calls[0][0] == "start" and rec.calls[0][1] == 1200
    assert (tmp_path / "cut" / "design.duckdb").is_file()
    assert not (tmp_path / "cut" / "report.html").exists()

    again = DesignOptions(replicates=600, seed=7, chunk_size=100, replicate_block=50, parameters="prior",
                          resume=True)
    resumed = run_design_study(None, _designs(), tmp_path / "cut", again, title="t")
    key = ["design_id", "replicate", "hypothesis"]
    a = full.run.results.sort_values(key).reset_index(drop=True)
    b = resumed.run.results.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_cancelled_trial_run_leaves_nothing(tmp_path: Path) -> None:
    tok = CancelToken()
    rec = Recorder(tok, cancel_at=2)  # cancel when the simulate stage is done
    out = tmp_path / "run"
    with pytest.raises(Cancelled):
        run_virtual_trial("true-ad3", out, 3, n=40, posterior="prior", progress=rec, cancel=tok)
    assert [c[0] for c in rec.calls] == ["start", "done"]
    assert list(tmp_path.iterdir()) == []  # no out, no staging folder
