"""Delta-adjusted multiple imputation and tipping point for a binary endpoint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.analysis.plan import default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.analysis.sensitivity import TIPPING, TippingPointResult, delta_label, estimate_tipping_point
from dermsim.analysis.stratified import estimate_common_risk_difference
from dermsim.errors import DataValidationError, InvalidInputError


def _trial(n=240, seed=3, p_ctl=0.2, p_act=0.4, p_miss=0.2):
    rng = np.random.default_rng(seed)
    g = np.where(np.arange(n) % 2 == 0, "Active", "Vehicle")
    s = rng.integers(0, 3, n)
    y = (rng.random(n) < np.where(g == "Active", p_act, p_ctl)).astype(float)
    y[rng.random(n) < p_miss] = np.nan
    return y, g, s


def test_no_missing_outcomes_give_the_complete_data_analysis_at_every_delta():
    y, g, s = _trial(p_miss=0.0)
    r = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=[-2, 0, 2], m=5, seed=1)
    x1 = np.array([((g == "Active") & (s == k) & (y == 1)).sum() for k in range(3)])
    n1 = np.array([((g == "Active") & (s == k)).sum() for k in range(3)])
    x2 = np.array([((g == "Vehicle") & (s == k) & (y == 1)).sum() for k in range(3)])
    n2 = np.array([((g == "Vehicle") & (s == k)).sum() for k in range(3)])
    ref = estimate_common_risk_difference(x1, n1, x2, n2, method="mh_sato")
    for d in (-2, 0, 2):
        res = r.at("Active", d)
        assert res.estimate == pytest.approx(ref.estimate) and res.se == pytest.approx(ref.se)
    assert r.n_missing == {"Vehicle": 0, "Active": 0}


def test_estimate_rises_with_delta_and_a_large_negative_delta_is_non_response():
    y, g, s = _trial()
    deltas = np.arange(-6, 3.01, 0.5)
    r = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=[*deltas, -40], m=40, seed=2)
    est = np.array([r.at("Active", d).estimate for d in deltas])
    assert np.all(np.diff(est) > 0)                     # common random numbers: monotone in delta
    # delta -40: every missing active outcome is a non-response; the vehicle's stay MAR, whose
    # expectation is the observed rate of the stratum
    act, obs = g == "Active", ~np.isnan(y)
    rates = []
    for arm in ("Active", "Vehicle"):
        per = []
        for k in range(3):
            cell = (g == arm) & (s == k)
            seen = y[cell & obs]
            k_obs = seen.sum() if arm == "Active" else seen.mean() * cell.sum()
            per.append((k_obs, cell.sum()))
        rates.append(per)
    w = [n_a * n_v / (n_a + n_v) for (_, n_a), (_, n_v) in zip(*rates, strict=True)]
    mh = sum(wi * (ka / na - kv / nv) for wi, (ka, na), (kv, nv) in zip(w, *rates, strict=True)) / sum(w)
    assert r.at("Active", -40).estimate == pytest.approx(mh, abs=0.01)
    assert act.sum() == r.n["Active"]


def test_tipping_point_is_where_the_p_value_crosses_alpha():
    y, g, s = _trial(n=200, p_ctl=0.2, p_act=0.38, p_miss=0.3, seed=11)
    deltas = np.arange(-8, 2.01, 0.25)
    r = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=deltas, m=60, seed=4)
    p = np.array([r.at("Active", d).p_value for d in deltas])
    assert p[deltas == 0][0] < 0.05
    tip = r.tipping["Active"]
    assert np.isfinite(tip) and tip < 0
    below, above = deltas[deltas <= tip].max(), deltas[deltas >= tip].min()
    assert r.at("Active", above).p_value < 0.05 <= r.at("Active", below).p_value


def test_seed_reproducible_and_round_trip():
    y, g, s = _trial()
    a = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=[-1, 0], m=10, seed=7)
    b = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=[-1, 0], m=10, seed=7)
    assert a.results == b.results and a.n_missing == b.n_missing
    back = TippingPointResult.from_dict(a.to_dict())
    assert back.results == a.results and back.deltas == a.deltas
    names = {(c["variable_level"], k) for c, pairs in a.ard_blocks() for k, _ in pairs}
    assert (delta_label(-1), "p_value") in names and (TIPPING, "estimate") in names


def test_input_errors():
    y, g, s = _trial()
    with pytest.raises(InvalidInputError, match="deltas must be"):
        estimate_tipping_point(y, g, reference="Vehicle", deltas=[], m=5)
    with pytest.raises(DataValidationError, match="reference arm"):
        estimate_tipping_point(y, g, reference="Placebo", deltas=[0], m=5)
    y2 = y.copy()
    y2[g == "Active"] = np.nan
    with pytest.raises(DataValidationError, match="no observed one"):
        estimate_tipping_point(y2, g, reference="Vehicle", strata=s, deltas=[0], m=5)


def test_a_stratum_without_observed_outcomes_borrows_from_its_arm():
    y, g, s = _trial(seed=8)
    y[(g == "Active") & (s == 0)] = np.nan
    r = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=[0], m=20, seed=1)
    assert r.n_missing["Active"] == int(np.isnan(y[g == "Active"]).sum())
    assert 0 < r.at("Active", 0).p_value < 1


def test_ad_plan_runs_the_tipping_point_analysis():
    plan = load_plan(default_plan_path()).select(["iga-ts-w8-tipping"])
    ard = run_plan(plan, make_ad_adam(n=90), seed=1)
    tip = ard[ard.variable_level == TIPPING]
    assert len(tip) == 2 and set(tip.comparator) == {"Vehicle cream BID"}
    deltas = ard[ard.variable_level.str.startswith("delta=") & (ard.stat_name == "p_value")]
    assert len(deltas) == 2 * 25
    miss = ard[(ard.variable_level == "missing") & (ard.stat_name == "count")]
    assert miss.stat_value.sum() > 0 and isinstance(ard, pd.DataFrame)


@pytest.mark.slow  # tens of seconds on a busy 2-core machine (make test --durations)
def test_tipping_point_figure_reads_the_ard(tmp_path):
    from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows
    from dermsim.report.figures import plot_tipping_point, save_figure

    y, g, s = _trial(n=200, p_ctl=0.2, p_act=0.38, p_miss=0.3, seed=11)
    r = estimate_tipping_point(y, g, reference="Vehicle", strata=s, deltas=np.arange(-8, 2.01, 0.5), m=30,
                               seed=4)
    ctx = ArdContext("tp", "ADEFF", parameter="IGATS", variable="AVAL", group="TRT01P",
                     method="tipping_point")
    rows = [row for cols, pairs in r.ard_blocks()
            for row in make_rows(ctx, dict(pairs), visit="Week 8", **cols)]
    fig = plot_tipping_point(frame_from_rows(rows), "tp")
    top, bottom = fig.axes
    assert bottom.get_yscale() == "log"
    xs = [ln.get_xdata()[0] for ln in top.lines if ln.get_linestyle() == "--"]
    assert xs and xs[0] == pytest.approx(r.tipping["Active"])
    out = save_figure(fig, tmp_path, "tipping")
    assert all(p.stat().st_size > 0 for p in out.values())
    with pytest.raises(DataValidationError, match="no delta-adjusted"):
        plot_tipping_point(frame_from_rows(rows[:2]), "tp")
