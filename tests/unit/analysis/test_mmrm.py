"""MMRM: REML derivatives, reductions to known models, covariance structures, input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis import mmrm as mm
from dermsim.analysis.ancova import estimate_ancova
from dermsim.analysis.mmrm import MmrmResult, estimate_mmrm
from dermsim.errors import DataValidationError, InvalidInputError

VISITS = ["Week 2", "Week 4", "Week 8"]


def _data(n: int = 60, seed: int = 1, drop: float = 0.2) -> pd.DataFrame:
    """Long data: 3 arms, 3 visits, a stratum, a baseline, unstructured errors, some dropout."""
    rng = np.random.default_rng(seed)
    arm = np.array(["A", "B", "C"])[np.arange(n) % 3]
    strat = np.array(["s1", "s2"])[rng.integers(0, 2, n)]
    base = rng.normal(10, 2, n)
    cov = np.array([[4.0, 2.5, 2.0], [2.5, 6.0, 3.5], [2.0, 3.5, 9.0]])
    e = rng.multivariate_normal(np.zeros(3), cov, n)
    eff = {"A": 0.0, "B": -1.0, "C": -2.0}
    rows = []
    for i in range(n):
        last = 3 if rng.random() > drop else int(rng.integers(1, 3))
        for j in range(last):
            y = 0.5 * base[i] + eff[arm[i]] * (j + 1) / 3 + (0.3 if strat[i] == "s2" else 0) + e[i, j]
            rows.append({"USUBJID": f"S{i:03d}", "ARM": arm[i], "STRAT": strat[i], "BASE": base[i],
                         "AVISIT": VISITS[j], "CHG": y})
    return pd.DataFrame(rows)


def _fit(df, **kw) -> MmrmResult:
    args = {"covariates": ["BASE", "STRAT"], "class_covariates": ["STRAT"], "visits": VISITS,
            "reference": "A"}
    args.update(kw)
    return estimate_mmrm(df, "CHG", "ARM", "AVISIT", **args)


def _reml(df, cov="us"):
    """The internal REML object of a fit, for derivative checks."""
    design = mm._Design({"ARM": ("A", "B", "C"), "AVISIT": tuple(VISITS)}, ("BASE",),
                        (("ARM", "AVISIT"),), {})
    x, _ = design.matrix({c: df[c].to_numpy() for c in df.columns}, len(df))
    s, _ = pd.factorize(df.USUBJID)
    v = pd.Index(VISITS).get_indexer(df.AVISIT)
    struct = mm._STRUCTURES[cov](3)
    return mm._Reml(mm._patterns(x, df.CHG.to_numpy(float), s, v, 3), struct, len(df), x.shape[1]), x


@pytest.mark.parametrize("cov,theta", [("us", [4.0, 2.0, 6.0, 1.5, 3.0, 9.0]), ("cs", [2.0, 4.0]),
                                       ("ar1", [0.5, 5.0]), ("toep", [6.0, 3.0, 1.5])])
def test_gradient_and_observed_information_match_numerical_derivatives(cov, theta):
    reml, _ = _reml(_data(), cov)
    th = np.array(theta)
    pc = reml.pieces(th)
    h = 1e-5
    num_g = np.array([(reml.neg2ll(th + h * e)[0] - reml.neg2ll(th - h * e)[0]) / (2 * h)
                      for e in np.eye(th.size)])
    np.testing.assert_allclose(pc["grad"], num_g, rtol=1e-5, atol=1e-6)
    num_h = np.array([(reml.pieces(th + h * e)["grad"] - reml.pieces(th - h * e)["grad"]) / (2 * h)
                      for e in np.eye(th.size)])
    np.testing.assert_allclose(2 * pc["observed"], num_h, rtol=1e-4, atol=1e-6)


def test_expected_information_is_the_mean_of_the_observed_one():
    """E[observed information] = expected information: average over data simulated from the model."""
    df0 = _data(n=45, drop=0.0)
    reml, x = _reml(df0, "us")
    sig = np.array([[4.0, 2.5, 2.0], [2.5, 6.0, 3.5], [2.0, 3.5, 9.0]])
    th = sig[np.tril_indices(3)]
    rng = np.random.default_rng(5)
    obs = []
    for _ in range(300):
        y = rng.multivariate_normal(np.zeros(3), sig, 45).reshape(-1)
        pats = mm._patterns(x, y, pd.factorize(df0.USUBJID)[0], pd.Index(VISITS).get_indexer(df0.AVISIT), 3)
        obs.append(mm._Reml(pats, reml.struct, len(df0), x.shape[1]).pieces(th)["observed"])
    exp = reml.pieces(th)["expected"]
    np.testing.assert_allclose(np.mean(obs, axis=0), exp, rtol=0.15, atol=0.05 * np.abs(exp).max())


def test_one_visit_is_the_ancova():
    """With a single visit the MMRM is the linear model: LS means, SE and df of estimate_ancova."""
    df = _data(drop=0.0)
    one = df[df.AVISIT == "Week 8"]
    r = _fit(one, visits=["Week 8"])
    a = estimate_ancova(one, "CHG", "ARM", covariates=["BASE"], class_covariates=["STRAT"], pairs="reference",
                        reference="A")
    for m in a.lsmeans:
        ours = r.lsmean(m.level, "Week 8")
        np.testing.assert_allclose([ours.estimate, ours.se, ours.df], [m.estimate, m.se, m.df], rtol=1e-7)
    for d in a.differences:
        ours = r.difference(d.level, "A", "Week 8")
        np.testing.assert_allclose([ours.estimate, ours.se, ours.p_value], [d.estimate, d.se, d.p_value],
                                   rtol=1e-6)
    for t in a.type3:                    # KR on a linear model is the exact F test on N - p df
        ours = r.type3_test(t.term)
        np.testing.assert_allclose([ours.statistic, ours.den_df, ours.p_value], [t.statistic, a.df_error,
                                   t.p_value], rtol=1e-6)
        assert ours.num_df == t.df


def test_complete_data_estimates_do_not_depend_on_the_structure_for_cell_means():
    """Complete balanced data without covariates: LS means are the cell means under any structure."""
    df = _data(drop=0.0)
    means = df.groupby(["AVISIT", "ARM"]).CHG.mean()
    for cov in mm.COVARIANCES:
        r = estimate_mmrm(df, "CHG", "ARM", "AVISIT", visits=VISITS, covariance=cov)
        for m in r.lsmeans:
            assert m.estimate == pytest.approx(means[(m.visit, m.level)], abs=1e-8)


@pytest.mark.parametrize("cov", mm.COVARIANCES)
def test_every_structure_converges_and_reports(cov):
    r = _fit(_data(), covariance=cov, overall=True)
    assert r.gradient_norm < 1e-5
    assert len(r.theta) == len(r.theta_names)
    sig = np.array(r.covariance_matrix)
    assert np.all(np.linalg.eigvalsh(sig) > 0)
    assert {m.visit for m in r.lsmeans} == {*VISITS, "Overall"}
    d = r.difference("C", "A", "Week 8")
    assert d.ci_lower < d.estimate < d.ci_upper and 0 < d.p_value < 1 and d.df > 10


def test_unstructured_beats_compound_symmetry_in_reml_fit():
    df = _data(n=90)
    assert _fit(df, covariance="us").neg2_reml_loglik < _fit(df, covariance="cs").neg2_reml_loglik


def test_kenward_roger_inflates_the_se_and_residual_df():
    df = _data()
    kr, sat, res = (_fit(df, df_method=m) for m in ("kenward_roger", "satterthwaite", "residual"))
    a, b, c = (x.difference("B", "A", "Week 8") for x in (kr, sat, res))
    assert a.estimate == pytest.approx(b.estimate) and a.se > b.se
    assert a.df == pytest.approx(b.df)          # one contrast: KR df = Satterthwaite df
    assert c.df == len(df) - kr.n_params


def test_ard_blocks_and_round_trip():
    r = _fit(_data())
    blocks = r.ard_blocks()
    names = {k for _, pairs in blocks for k, _ in pairs}
    assert {"lsmean", "lsmean_se", "estimate", "se", "df", "p_value", "ci_lower", "ci_upper"} <= names
    assert all(cols["visit"] in VISITS for cols, _ in blocks)
    assert MmrmResult.from_dict(r.to_dict()) == r


def test_input_errors():
    df = _data()
    with pytest.raises(InvalidInputError, match="covariance must be one of"):
        _fit(df, covariance="un")
    with pytest.raises(DataValidationError, match="variable NOPE is missing"):
        _fit(df, covariates=["NOPE"])
    with pytest.raises(DataValidationError, match="more than one record"):
        _fit(pd.concat([df, df.iloc[:1]]))
    with pytest.raises(DataValidationError, match="every group needs records at every visit"):
        _fit(df[~((df.ARM == "B") & (df.AVISIT == "Week 8"))])
    with pytest.raises(InvalidInputError, match="reference must be one of"):
        _fit(df, reference="Z")


def test_plan_options_of_the_mmrm_are_checked_at_load():
    from dermsim.analysis.plan import AnalysisPlan

    raw = {"analysis": [{"id": "m", "dataset": "adadas", "variable": "CHG", "visit": ["Week 8"],
                         "group": "TRTP", "method": "mmrm", "options": {"df_method": "kr"}}]}
    with pytest.raises(InvalidInputError, match=r"analysis 'm': field 'options.df_method' must be one of"):
        AnalysisPlan.from_dict(raw, source="plan.toml")
