"""Model-based replicates: same seed, same numbers for any chunk size, design order or executor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermsim.design import (
    DesignSpec,
    Hypothesis,
    resolve_design,
    simulate_chunk,
    simulate_operating_characteristics,
)
from dermsim.design.replicate import BlockCounts, analyse_block
from dermsim.errors import InvalidInputError

SMALL = DesignSpec(id="small", n_total=40, endpoints=["iga_ts", "nrs4"])
SMALL_B = DesignSpec(
    id="small-2arm",
    n_total=30,
    ratio={"rux150": 1, "vehicle": 1},
    strata=[],
    primary_day=29,
    endpoints=["easi75"],
)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return simulate_operating_characteristics(
        "true-ad3", [SMALL, SMALL_B], 6, 11, replicate_block=3, chunk_size=3
    ).results


def test_chunk_size_and_design_order_do_not_change_results(reference: pd.DataFrame) -> None:
    other = simulate_operating_characteristics(
        "true-ad3", [SMALL_B, SMALL], 6, 11, replicate_block=3, chunk_size=4
    ).results
    pd.testing.assert_frame_equal(other, reference)


def test_a_chunk_alone_equals_its_rows_of_the_run(reference: pd.DataFrame) -> None:
    part = simulate_chunk(resolve_design("true-ad3", SMALL).scenario, SMALL, 11, 2, 5, replicate_block=3)
    want = reference[(reference["design_id"] == "small") & reference["replicate"].between(2, 4)]
    pd.testing.assert_frame_equal(part.reset_index(drop=True), want.reset_index(drop=True))


def test_different_seed_changes_results(reference: pd.DataFrame) -> None:
    other = simulate_operating_characteristics("true-ad3", [SMALL], 3, 12, replicate_block=3).results
    mine = reference[reference["design_id"] == "small"].head(len(other))
    assert not np.allclose(other["estimate"].to_numpy(), mine["estimate"].to_numpy())


def test_rows_are_consistent(reference: pd.DataFrame) -> None:
    r = reference
    assert set(r.groupby("design_id")["replicate"].nunique()) == {6}
    small = r[r["design_id"] == "small"]
    # default sequence: each endpoint, active arms from the highest strength down, vs vehicle
    seq = small[small["replicate"] == 0][["endpoint", "treatment", "control"]].to_numpy().tolist()
    assert seq == [
        ["iga_ts", "rux150", "vehicle"],
        ["iga_ts", "rux075", "vehicle"],
        ["nrs4", "rux150", "vehicle"],
        ["nrs4", "rux075", "vehicle"],
    ]
    # IGA is evaluable for every patient; NRS4 only for ages >= 6 with baseline NRS >= 4
    iga = small[small["endpoint"] == "iga_ts"]
    nrs = small[small["endpoint"] == "nrs4"]
    assert (iga["n_treatment"].to_numpy() + iga["n_control"].to_numpy() <= 40).all()
    assert (nrs["n_treatment"].to_numpy() <= iga["n_treatment"].to_numpy()).all()
    assert ((r["rate_treatment"] >= 0) & (r["rate_treatment"] <= 1)).all()
    two = r[r["design_id"] == "small-2arm"]  # unstratified: the Wald RD is the difference of rates
    np.testing.assert_allclose(two["estimate"], two["rate_treatment"] - two["rate_control"], atol=1e-12)
    # success is the running AND of rejections in sequence order
    for _, g in r.groupby(["design_id", "replicate"]):
        assert (g["success"].to_numpy() == np.logical_and.accumulate(g["reject"].to_numpy())).all()
    assert r["seed_entropy"].nunique() == 1


def test_null_design_gives_vehicle_everywhere() -> None:
    rd = resolve_design("true-ad3", SMALL.replace(id="null", null=True))
    assert all(reg.strength_pct == 0 for reg in rd.regimens)
    assert rd.days == 56  # study day 57 (week 8) is day 56 after the first application


def test_resolve_design_errors() -> None:
    with pytest.raises(InvalidInputError, match="ratio names arm 'rux300'"):
        resolve_design("true-ad3", SMALL.replace(ratio={"rux300": 1, "vehicle": 1}))
    with pytest.raises(InvalidInputError, match="strata names factor 'SEX'"):
        resolve_design("true-ad3", SMALL.replace(strata=["SEX"]))
    with pytest.raises(InvalidInputError, match="primary_day must be within"):
        resolve_design("true-ad3", SMALL.replace(primary_day=85))
    with pytest.raises(InvalidInputError, match="vehicle arm"):
        resolve_design("true-ad3", SMALL.replace(ratio={"rux150": 1, "rux075": 1}))
    with pytest.raises(InvalidInputError, match="scenario is required"):
        simulate_operating_characteristics(None, [SMALL], 2, 1)
    with pytest.raises(InvalidInputError, match="distinct ids"):
        simulate_operating_characteristics("true-ad3", [SMALL, SMALL], 2, 1)


def test_analyse_block_by_hand() -> None:
    """Two replicates, one stratum, arms (t, c): 30/50 vs 20/50 and 20/50 vs 30/50."""
    x = np.array([[[30.0, 20.0]], [[20.0, 30.0]]])
    n = np.full_like(x, 50.0)
    hyps = (
        Hypothesis(endpoint="iga_ts", treatment="t", control="c"),
        Hypothesis(endpoint="easi75", treatment="t", control="c"),
    )
    bc = BlockCounts(
        {"iga_ts": (x, n), "easi75": (x[::-1].copy(), n)},
        ("t", "c"),
        hyps,
        stratified=False,
        alpha=0.05,
        truth={},
        param_draw=-1,
    )
    out = analyse_block(bc)
    np.testing.assert_allclose(out["estimate"][:, 0], [0.2, -0.2], atol=1e-12)
    # Pearson X2 of 30/50 vs 20/50 is 4.0; the one-stratum MH statistic is (N - 1)/N X2 = 3.96,
    # p = pchisq(3.96, 1, lower.tail = FALSE) = 0.0465937
    np.testing.assert_allclose(out["p_value"][:, 0], [0.0465937, 0.0465937], atol=1e-6)
    assert out["reject"].tolist() == [[True, False], [False, True]]
    # replicate 1 rejects H2 but not H1: no success under the fixed sequence
    assert out["success"].tolist() == [[True, False], [False, False]]


def test_an_empty_arm_gives_no_estimate_and_no_rejection() -> None:
    x = np.array([[[3.0, 0.0]], [[9.0, 1.0]]])
    n = np.array([[[5.0, 0.0]], [[10.0, 10.0]]])
    hyps = (Hypothesis(endpoint="nrs4", treatment="t", control="c"),)
    out = analyse_block(
        BlockCounts({"nrs4": (x, n)}, ("t", "c"), hyps, stratified=False, alpha=0.05, truth={}, param_draw=-1)
    )
    assert np.isnan(out["estimate"][0, 0]) and np.isnan(out["p_value"][0, 0]) and not out["reject"][0, 0]
    assert out["n_control"][0, 0] == 0 and out["n_treatment"][0, 0] == 5
    np.testing.assert_allclose(out["estimate"][1, 0], 0.8, atol=1e-12)
    assert out["reject"][1, 0]


class _FakePosterior:
    """Two 'draws', both the default parameters: checks the per-block bookkeeping, not the model."""

    version = "fake-1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def sample_indices(self, n: int, seed: object) -> np.ndarray:
        from dermsim._rng import as_generator

        return as_generator(seed).integers(0, 2, size=n)

    def parameter_set(self, index: int):
        from dermsim.model.parameters import default_parameters

        self.calls.append(int(index))
        return default_parameters()


def test_posterior_draw_per_block_is_recorded_and_chunk_free() -> None:
    post = _FakePosterior()
    a = simulate_operating_characteristics("true-ad3", [SMALL_B], 6, 4, replicate_block=2, chunk_size=2,
                                           posterior=post).results
    b = simulate_operating_characteristics("true-ad3", [SMALL_B], 6, 4, replicate_block=2, chunk_size=5,
                                           posterior=_FakePosterior()).results
    pd.testing.assert_frame_equal(a, b)
    assert set(a["param_draw"]) <= {0, 1} and len(post.calls) == 3
    # one draw per replicate block: both replicates of a block share it
    assert (a.groupby(a["replicate"] // 2)["param_draw"].nunique() == 1).all()


def test_the_kernels_are_compiled_ahead_before_local_workers_start(monkeypatch) -> None:
    # a cold numba cache is compiled on two cores (model.precompile) in this process, before the
    # local workers fork and would each compile on one; binomial designs and remote schedulers skip it
    from dermsim.design import BinomialDesign, runner

    calls: list[str] = []
    monkeypatch.setattr(runner, "ensure_compiled", lambda: calls.append("compile"))
    # the compiled engine, whatever the environment of the test run says
    monkeypatch.delenv("DERMSIM_ENGINE", raising=False)
    simulate_operating_characteristics("true-ad3", [SMALL_B], 2, 3, replicate_block=2)
    assert calls == ["compile"]
    binomial = BinomialDesign(id="b", n_total=40, arms=["t", "c"], ratio=[1, 1], rates={"iga_ts": [0.5, 0.2]},
                              hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")])
    simulate_operating_characteristics(None, [binomial], 2, 3)
    monkeypatch.setenv("DERMSIM_ENGINE", "numpy")
    simulate_operating_characteristics("true-ad3", [SMALL_B], 2, 3, replicate_block=2)
    assert calls == ["compile"]
