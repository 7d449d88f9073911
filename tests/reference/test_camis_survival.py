"""Kaplan-Meier, log-rank and Cox on the CAMIS ``whas500.sas7bdat`` (REFERENCE.md §6).

Printed SAS numbers (SAS defaults: log-log CI, Breslow ties)::

    data w; set whas500; lenfoly = round(lenfol / 365.25, 0.01); run;
    proc lifetest data=w; time lenfoly*fstat(0); strata afb; run;
    proc phreg data=w; class afb; model lenfoly*fstat(0) = afb / risklimits ties=breslow; run;

median afb=0 5.91 (4.31, NE), afb=1 2.37 (1.15, 3.77); 1-year survival afb=0 0.739 (0.695, 0.779),
afb=1 0.641 (0.524, 0.736); log-rank p 0.001; Cox HR 0.584 (0.422, 0.808) (afb 0 vs 1: PHREG's
CLASS reference is the last level). R defaults (``coxph(..., ties = "efron")``): HR 0.583
(0.421, 0.806).

Full-precision numbers from ``Rscript tests/reference/r/survival_whas.R`` (survival 3.5):
``survfit(Surv(t, e) ~ AFB, conf.type = "log-log" | "log" | "plain")`` with
``summary(km, times = c(0.5, 1, 2, 3, 5), extend = TRUE)`` and ``quantile(km, c(.25, .5))``;
``survdiff(Surv(t, e) ~ AFB, rho = 0 | 1)``, ``survdiff(Surv(t, e) ~ AFB + strata(GENDER))``;
``coxph(Surv(t, e) ~ factor(AFB, levels = c(1, 0)) + AGE + strata(GENDER), ties = ...)`` with
``summary(fit)$logtest``, ``fit$score``, ``fit$wald.test``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis.survival import estimate_cox, estimate_km_by_group, test_logrank
from dermsim.report.format import fmt_ci, fmt_num, fmt_p, round_half_away

R_CSV = Path(__file__).parent / "r" / "survival_whas.csv"
R_CONF = {"log-log": "log-log", "log": "log", "linear": "plain"}


@pytest.fixture(scope="module")
def whas(shared_dir: Path) -> pd.DataFrame:
    pyreadstat = pytest.importorskip("pyreadstat")
    df, _ = pyreadstat.read_sas7bdat(str(shared_dir / "reference" / "camis" / "whas500.sas7bdat"))
    df["t"] = round_half_away(df.LENFOL.to_numpy() / 365.25, 2)
    df["e"] = (df.FSTAT == 1).astype(int)
    return df


@pytest.fixture(scope="module")
def r_numbers() -> pd.DataFrame:
    return pd.read_csv(R_CSV, keep_default_na=False, na_values=[""],
                       dtype={"level": str, "conf_type": str, "part": str})


def _r(exp: pd.DataFrame, part: str, stat: str, conf: str = "", level: str = "",
       time: float | None = None) -> float:
    sel = (exp.part == part) & (exp.stat == stat) & (exp.conf_type.fillna("") == conf) \
        & (exp.level.fillna("") == level)
    sel &= exp.time.isna() if time is None else np.isclose(exp.time, time)
    assert sel.sum() == 1, (part, stat, conf, level, time)
    return float(exp.loc[sel, "value"].iloc[0])


# ---- the printed SAS/R numbers, to their digits

def test_events_and_censored_by_group(whas):
    km = estimate_km_by_group(whas.t, whas.e, whas.AFB)
    assert (km["0"].n_events, km["0"].n - km["0"].n_events) == (168, 254)
    assert (km["1"].n_events, km["1"].n - km["1"].n_events) == (47, 31)


def test_median_with_loglog_ci_as_sas(whas):
    km = estimate_km_by_group(whas.t, whas.e, whas.AFB)
    printed = {"0": ("5.91", "(4.31, NE)"), "1": ("2.37", "(1.15, 3.77)")}
    for lv, (med, ci) in printed.items():
        m = km[lv].median
        assert (fmt_num(m.estimate, 2), fmt_ci(m.ci_lower, m.ci_upper, 2)) == (med, ci)


def test_one_year_survival_with_loglog_ci_as_sas(whas):
    km = estimate_km_by_group(whas.t, whas.e, whas.AFB)
    printed = {"0": ("0.739", "(0.695, 0.779)"), "1": ("0.641", "(0.524, 0.736)")}
    for lv, (est, ci) in printed.items():
        (s,) = km[lv].survival_at(1.0)
        assert (fmt_num(s.estimate, 3), fmt_ci(s.ci_lower, s.ci_upper, 3)) == (est, ci)


def test_logrank_p_as_sas(whas):
    """SAS prints Pr > Chi-Square 0.0010; the reference quotes it to 3 decimals."""
    p = test_logrank(whas.t, whas.e, whas.AFB).p_value
    assert fmt_num(p, 3) == "0.001"
    assert fmt_p(p, style="sas") == "0.0010"


@pytest.mark.parametrize(("ties", "printed"), [("breslow", ("0.584", "(0.422, 0.808)")),
                                               ("efron", ("0.583", "(0.421, 0.806)"))])
def test_cox_hazard_ratio_breslow_sas_and_efron_r(whas, ties, printed):
    res = estimate_cox(whas, "t", "e", class_covariates={"AFB": "1"}, ties=ties)
    hr = res.term("AFB=0")
    assert (fmt_num(hr.hazard_ratio, 3), fmt_ci(hr.ci_lower, hr.ci_upper, 3)) == printed


# ---- full precision against R survival

@pytest.mark.parametrize("conf_type", ["log-log", "log", "linear"])
def test_km_survival_and_quantiles_match_r(whas, r_numbers, conf_type):
    rc = R_CONF[conf_type]
    km = estimate_km_by_group(whas.t, whas.e, whas.AFB, conf_type=conf_type)
    for lv, fit in km.items():
        for s in fit.survival_at([0.5, 1, 2, 3, 5]):
            assert s.n_risk == _r(r_numbers, "survival", "n_risk", rc, lv, s.time)
            for stat in ("estimate", "se", "ci_lower", "ci_upper"):
                np.testing.assert_allclose(getattr(s, stat), _r(r_numbers, "survival", stat, rc, lv, s.time),
                                           rtol=1e-10)
        for p in (0.25, 0.5):
            q = fit.quantile(p)
            part = f"quantile{int(p * 100)}"
            np.testing.assert_allclose([q.estimate, q.ci_lower, q.ci_upper],
                                       [_r(r_numbers, part, s, rc, lv)
                                        for s in ("estimate", "ci_lower", "ci_upper")],
                                       rtol=1e-12)


def test_logrank_weights_and_strata_match_r(whas, r_numbers):
    lr = test_logrank(whas.t, whas.e, whas.AFB)
    np.testing.assert_allclose(lr.statistic, _r(r_numbers, "survdiff_rho0", "statistic"), rtol=1e-10)
    np.testing.assert_allclose(lr.p_value, _r(r_numbers, "survdiff_rho0", "p_value"), rtol=1e-8)
    pp = test_logrank(whas.t, whas.e, whas.AFB, weights="peto-peto")
    np.testing.assert_allclose(pp.statistic, _r(r_numbers, "survdiff_rho1", "statistic"), rtol=1e-10)
    st = test_logrank(whas.t, whas.e, whas.AFB, strata=whas.GENDER)
    np.testing.assert_allclose(st.statistic, _r(r_numbers, "survdiff_strata_gender", "statistic"), rtol=1e-10)
    assert st.n_strata == 2


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_stratified_cox_with_covariate_matches_r(whas, r_numbers, ties):
    res = estimate_cox(whas, "t", "e", covariates=["AGE"], class_covariates={"AFB": "1"}, strata="GENDER",
                       ties=ties)
    part = f"cox_{ties}"
    for ours, theirs in (("AFB=0", "factor(AFB, levels = c(1, 0))0"), ("AGE", "AGE")):
        hr = res.term(ours)
        for stat in ("coef", "se", "hazard_ratio", "ci_lower", "ci_upper", "p_value"):
            np.testing.assert_allclose(getattr(hr, stat), _r(r_numbers, part, stat, level=theirs), rtol=1e-5)
    np.testing.assert_allclose(res.lr_statistic, _r(r_numbers, part, "statistic", level="lr"), rtol=1e-6)
    for test in ("score", "wald"):
        np.testing.assert_allclose(getattr(res, f"{test}_statistic"),
                                   _r(r_numbers, part, "statistic", level=test), rtol=1e-5)
    assert res.lr_df == 2


@pytest.mark.external
@pytest.mark.slow
def test_stored_r_numbers_are_what_the_r_script_writes(shared_dir, tmp_path):
    """Re-run ``Rscript tests/reference/r/survival_whas.R SHARED_DIR OUT_DIR`` and compare its CSV
    with the stored one, so the expected numbers above cannot drift from their R source."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed (scripts/install-external.sh installs r-base-core)")
    ok = subprocess.run(["Rscript", "-e", "quit(status = !all(sapply(c('survival', 'haven'), "
                         "requireNamespace, quietly = TRUE)))"], capture_output=True, check=False)
    if ok.returncode != 0:
        pytest.skip("R packages survival and haven are not installed (scripts/install-external.sh)")
    subprocess.run(["Rscript", str(R_CSV.with_suffix(".R")), str(shared_dir), str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    fresh = pd.read_csv(tmp_path / R_CSV.name, keep_default_na=False, na_values=[""])
    stored = pd.read_csv(R_CSV, keep_default_na=False, na_values=[""])
    pd.testing.assert_frame_equal(fresh.drop(columns="value"), stored.drop(columns="value"))
    np.testing.assert_allclose(fresh.value, stored.value, rtol=1e-12)
