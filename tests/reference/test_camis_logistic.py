"""Covariate-adjusted marginal risk difference against CAMIS (SAS %Margins / R beeca).

Expected numbers: ``../shared/reference/camis/REFERENCE.md`` section 5, from R
``beeca::get_marginal_effect(glm(aval ~ trtp + bl_cov, family = binomial, data = trial01),
trt = "trtp", method = "Ge", contrast = "diff", reference = "0")`` and SAS ``%Margins`` (delta
method): -0.068364, SE 0.060716, CI (-0.18737, 0.050638), risks 0.41911 vs 0.48747 on the 267
complete cases ("." is missing). REFERENCE.md does not name the covariates or the covariance; of
the candidate models (bl_cov, bl_cov_c, region dummies) only ``aval ~ trtp + bl_cov`` with the
model-based covariance (Ge et al.) reproduces all six printed numbers. Comparison rule:
``abs(value - printed) <= 0.5 * 10**-digits``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dermsim.analysis import estimate_marginal_risk_difference


def printed(value: float, text: str) -> None:
    digits = len(text.split(".")[1]) if "." in text else 0
    assert value == pytest.approx(float(text), abs=0.5 * 10.0 ** -digits + 1e-12), (value, text)


def test_g_computation_marginal_risk_difference(shared_dir: Path) -> None:
    """beeca::get_marginal_effect(method = "Ge") / SAS %Margins on trial01.csv."""
    d = pd.read_csv(shared_dir / "reference" / "camis" / "trial01.csv", na_values=".")
    r = estimate_marginal_risk_difference(d, response="aval", treatment="trtp", active=1, control=0,
                                          covariates=["bl_cov"], dataset="trial01")
    assert r.n == 267
    for got, text in ((r.estimate, "-0.068364"), (r.se, "0.060716"), (r.ci_lower, "-0.18737"),
                      (r.ci_upper, "0.050638"), (r.risk_treatment, "0.41911"),
                      (r.risk_control, "0.48747")):
        printed(got, text)
