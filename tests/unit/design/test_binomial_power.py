"""Binomial-only designs: simulated power vs the analytic normal approximation and R rpact.

Reference numbers: ``Rscript tests/reference/r/design_power_rates.R`` (rpact
``getPowerRates(groups = 2, pi1, pi2, maxNumberOfSubjects, allocationRatioPlanned, alpha = 0.05,
sided = 2)`` and ``getSampleSizeRates(..., beta = 0.1, normalApproximation = TRUE)``), stored in
``tests/reference/r/design_power_rates.csv``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.design import (
    BinomialDesign,
    Hypothesis,
    compute_power_two_proportions,
    compute_sample_size_two_proportions,
    simulate_operating_characteristics,
    summarise_operating_characteristics,
)

R_DIR = Path(__file__).resolve().parents[2] / "reference" / "r"
REF = pd.read_csv(R_DIR / "design_power_rates.csv")
N_REP = 20_000


def _design(row: pd.Series) -> BinomialDesign:
    ratio = [int(row["allocation"]), 1]
    return BinomialDesign(
        id=f"case-{row['id']}",
        n_total=int(row["n_total"]),
        arms=["t", "c"],
        ratio=ratio,
        rates={"iga_ts": [float(row["pi1"]), float(row["pi2"])]},
        hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")],
    )


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    designs = [_design(r) for _, r in REF.iterrows()]
    run = simulate_operating_characteristics(
        None, designs, N_REP, 20261125, replicate_block=1000, chunk_size=5000
    )
    return summarise_operating_characteristics(run.results, designs).set_index("design_id")


@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_analytic_power_matches_rpact(case: str) -> None:
    row = REF.set_index("id").loc[case]
    n = int(row["n_total"])
    n_c = n // (int(row["allocation"]) + 1)
    got = compute_power_two_proportions(row["pi1"], row["pi2"], n - n_c, n_c, alpha=0.05)
    np.testing.assert_allclose(got, row["power"], atol=1e-6)


@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_simulated_power_within_one_point_of_rpact(summary: pd.DataFrame, case: str) -> None:
    row = REF.set_index("id").loc[case]
    sim = summary.loc[f"case-{case}"]
    assert sim["n_replicates"] == N_REP
    # power by simulation of the CMH (= pooled chi-square) test vs rpact's normal approximation
    np.testing.assert_allclose(sim["rejection_rate"], row["power"], atol=0.01)
    # the MC SE of a rate near 0.85 over 20,000 replicates is about 0.25 points
    assert sim["rejection_rate_mcse"] < 0.003


def test_type_one_error_within_monte_carlo_error(summary: pd.DataFrame) -> None:
    sim = summary.loc["case-d"]
    # success counts only a difference in favour of the treatment: nominal alpha / 2 one way
    assert abs(sim["rejection_rate"] - 0.025) <= 2.576 * np.sqrt(0.025 * 0.975 / N_REP)


def test_two_sided_type_one_error_within_monte_carlo_error() -> None:
    d = BinomialDesign(
        id="null",
        n_total=400,
        arms=["t", "c"],
        ratio=[1, 1],
        rates={"iga_ts": [0.25, 0.25]},
        hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")],
    )
    run = simulate_operating_characteristics(None, [d], N_REP, 7, replicate_block=1000, chunk_size=5000)
    rate = float((run.results["p_value"] < 0.05).mean())
    assert abs(rate - 0.05) <= 2.576 * np.sqrt(0.05 * 0.95 / N_REP)


def test_bias_and_coverage(summary: pd.DataFrame) -> None:
    for case in "abc":
        sim = summary.loc[f"case-{case}"]
        assert abs(sim["bias"]) <= 3 * sim["bias_mcse"]
        # Wald intervals at these sizes cover close to 95%
        assert abs(sim["coverage"] - 0.95) < 0.01


@pytest.mark.parametrize("case", ["a", "b", "c"])
def test_sample_size_matches_rpact(case: str) -> None:
    row = REF.set_index("id").loc[case]
    n = compute_sample_size_two_proportions(
        row["pi1"], row["pi2"], power=0.9, alpha=0.05, allocation=float(row["allocation"])
    )
    # rpact gives the continuous solution; ours is the smallest whole N with integer arms
    assert row["n_total_power90"] - 2 <= n <= row["n_total_power90"] + 3


@pytest.mark.external
def test_rpact_numbers_are_reproducible(tmp_path: Path) -> None:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (scripts/install-external.sh installs it)")
    res = subprocess.run(
        ["Rscript", str(R_DIR / "design_power_rates.R"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if res.returncode != 0 and "there is no package called" in res.stderr:
        pytest.skip(f"an R package is missing: {res.stderr.strip().splitlines()[-1]}")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(tmp_path / "design_power_rates.csv")
    pd.testing.assert_frame_equal(got, REF, check_exact=False, rtol=1e-10)
