"""Unit tests of the g-computation marginal risk difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis.logistic import estimate_marginal_risk_difference
from dermsim.errors import DataValidationError


def _data(seed: int = 1, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trt = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    region = rng.choice(["A", "B", "C"], n)
    eta = -0.3 + 0.8 * trt + 0.7 * x + (region == "B") * 0.4
    return pd.DataFrame({"Y": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
                         "TRT": np.where(trt == 1, "Active", "Placebo"), "X": x, "REGION": region})


def test_without_covariates_equals_raw_risk_difference() -> None:
    d = _data()
    r = estimate_marginal_risk_difference(d, response="Y", treatment="TRT", active="Active",
                                          control="Placebo")
    p1 = d.Y[d.TRT == "Active"].mean()
    p0 = d.Y[d.TRT == "Placebo"].mean()
    n1, n0 = (d.TRT == "Active").sum(), (d.TRT == "Placebo").sum()
    assert r.estimate == pytest.approx(p1 - p0, abs=1e-8)
    assert r.se == pytest.approx(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0), rel=1e-6)


def test_text_covariate_and_hc0_option() -> None:
    d = _data()
    a = estimate_marginal_risk_difference(d, response="Y", treatment="TRT", active="Active",
                                          control="Placebo", covariates=["X", "REGION"])
    b = estimate_marginal_risk_difference(d, response="Y", treatment="TRT", active="Active",
                                          control="Placebo", covariates=["X", "REGION"], vcov="HC0")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    assert a.se != b.se and 0 < b.se < 1
    assert a.ci_lower < a.estimate < a.ci_upper


def test_errors_name_dataset_and_variable() -> None:
    d = _data()
    with pytest.raises(DataValidationError, match="adeff has no variable BASE"):
        estimate_marginal_risk_difference(d, response="Y", treatment="TRT", active="Active",
                                          control="Placebo", covariates=["BASE"], dataset="adeff")
    d2 = d.assign(Y=d.Y * 2)
    with pytest.raises(DataValidationError, match="Y must be 0 or 1"):
        estimate_marginal_risk_difference(d2, response="Y", treatment="TRT", active="Active",
                                          control="Placebo")
    with pytest.raises(DataValidationError, match="no complete records with TRT == 'Other'"):
        estimate_marginal_risk_difference(d, response="Y", treatment="TRT", active="Other",
                                          control="Placebo")
