"""ANCOVA Type III tests, LS means (equal and observed-margin weights) and differences against R.

Expected numbers: ``tests/reference/r/ancova_lsmeans.csv``, written by
``Rscript tests/reference/r/ancova_lsmeans.R`` (R 4.2, emmeans 1.8, car):
``options(contrasts = c("contr.sum", "contr.poly")); fit <- lm(CHG ~ TRTP + SITEGR1 + BASE)``
(and ``TRTP * SITEGR1 + BASE``; CAMIS ``post ~ drug * sex + pre`` and ``post ~ drug * pre``),
``car::Anova(fit, type = 3)``,
``emmeans(fit, "TRTP", weights = "equal" | "proportional")``,
``pairs(em, adjust = "none")``; dose response ``lm(CHG ~ TRTPN + SITEGR1 + BASE)``.
Data: CDISC Pilot 01 ADADAS (PARAMCD ACTOT, AVISIT Week 24, EFFFL Y, ANL01FL Y: the pilot's
LOCF analysis records) and the CAMIS ``drug_trial.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis.ancova import estimate_ancova, estimate_dose_response

R_CSV = Path(__file__).parent / "r" / "ancova_lsmeans.csv"
ARMS = ("Placebo", "Xanomeline High Dose", "Xanomeline Low Dose")
RTOL = 1e-9


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return pd.read_csv(R_CSV, keep_default_na=False, dtype={"value": float})


@pytest.fixture(scope="module")
def adas(shared_dir: Path) -> pd.DataFrame:
    d = pd.read_csv(shared_dir / "data" / "cdisc_pilot" / "adadas.csv.gz")
    return d[(d.PARAMCD == "ACTOT") & (d.EFFFL == "Y") & (d.ANL01FL == "Y") & (d.AVISIT == "Week 24")]


@pytest.fixture(scope="module")
def drug(shared_dir: Path) -> pd.DataFrame:
    return pd.read_csv(shared_dir / "reference" / "camis" / "drug_trial.csv")


def _get(exp: pd.DataFrame, case: str, part: str, stat: str, term: str = "", level: str = "",
         comparator: str = "") -> float:
    sel = exp[(exp.case == case) & (exp.part == part) & (exp.term == term) & (exp.level == level)
              & (exp.comparator == comparator) & (exp.stat == stat)]
    assert len(sel) == 1, (case, part, term, level, comparator, stat)
    return float(sel.value.iloc[0])


def _compare(exp: pd.DataFrame, case: str, res, weights_r: str, terms: dict[str, str]) -> None:
    for ours, theirs in terms.items():
        t = res.type3_test(ours)
        np.testing.assert_allclose(t.ss, _get(exp, case, "type3", "ss", theirs), rtol=RTOL)
        np.testing.assert_allclose(t.statistic, _get(exp, case, "type3", "statistic", theirs), rtol=RTOL)
        np.testing.assert_allclose(t.p_value, _get(exp, case, "type3", "p_value", theirs), rtol=1e-7)
        assert t.df == _get(exp, case, "type3", "df", theirs)
    np.testing.assert_allclose(res.statistic, _get(exp, case, "model", "statistic"), rtol=RTOL)
    np.testing.assert_allclose(res.r_squared, _get(exp, case, "model", "r_squared"), rtol=RTOL)
    np.testing.assert_allclose(res.root_mse, _get(exp, case, "model", "root_mse"), rtol=RTOL)
    np.testing.assert_allclose(res.sse, _get(exp, case, "model", "sse"), rtol=RTOL)
    assert res.df_error == _get(exp, case, "model", "df_error")
    for m in res.lsmeans:
        part = f"lsmean_{weights_r}"
        np.testing.assert_allclose(m.estimate, _get(exp, case, part, "estimate", level=m.level), rtol=RTOL)
        np.testing.assert_allclose(m.se, _get(exp, case, part, "se", level=m.level), rtol=RTOL)
        np.testing.assert_allclose([m.ci_lower, m.ci_upper],
                                   [_get(exp, case, part, "ci_lower", level=m.level),
                                    _get(exp, case, part, "ci_upper", level=m.level)], rtol=RTOL)
    assert len(res.differences) == 3
    for d in res.differences:
        part = f"diff_{weights_r}"
        for stat in ("estimate", "se", "ci_lower", "ci_upper", "statistic", "p_value"):
            np.testing.assert_allclose(getattr(d, stat),
                                       _get(exp, case, part, stat, level=d.level, comparator=d.reference),
                                       rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(("weights", "weights_r"), [("equal", "equal"), ("observed", "proportional")])
def test_pilot_t14_3_01_ancova_matches_r(adas, expected, weights, weights_r):
    res = estimate_ancova(adas, "CHG", "TRTP", covariates=["BASE"], class_covariates=["SITEGR1"],
                          levels=ARMS, weights=weights)
    assert res.n == 234
    _compare(expected, "pilot_main", res, weights_r, {"TRTP": "TRTP", "SITEGR1": "SITEGR1", "BASE": "BASE"})


@pytest.mark.parametrize(("weights", "weights_r"), [("equal", "equal"), ("observed", "proportional")])
def test_pilot_ancova_with_interaction_matches_r(adas, expected, weights, weights_r):
    res = estimate_ancova(adas, "CHG", "TRTP", covariates=["BASE"], class_covariates=["SITEGR1"],
                          interactions=[("TRTP", "SITEGR1")], levels=ARMS, weights=weights)
    _compare(expected, "pilot_interaction", res, weights_r,
             {"TRTP": "TRTP", "SITEGR1": "SITEGR1", "BASE": "BASE", "TRTP*SITEGR1": "TRTP:SITEGR1"})


@pytest.mark.parametrize(("weights", "weights_r"), [("equal", "equal"), ("observed", "proportional")])
def test_camis_drug_by_sex_interaction_matches_r(drug, expected, weights, weights_r):
    res = estimate_ancova(drug, "post", "drug", covariates=["pre"], class_covariates=["sex"],
                          interactions=[("drug", "sex")], weights=weights)
    _compare(expected, "drug_sex", res, weights_r,
             {"drug": "drug", "sex": "sex", "pre": "pre", "drug*sex": "drug:sex"})


def test_camis_separate_slopes_matches_r(drug, expected):
    """``lm(post ~ drug * pre)``: heterogeneous slopes; LS means at the mean of pre."""
    res = estimate_ancova(drug, "post", "drug", covariates=["pre"], interactions=[("drug", "pre")])
    _compare(expected, "drug_pre", res, "equal", {"drug": "drug", "pre": "pre", "drug*pre": "drug:pre"})


def test_pilot_dose_response_matches_r(adas, expected):
    res = estimate_dose_response(adas, "CHG", "TRTPN", covariates=["BASE"], class_covariates=["SITEGR1"])
    for stat in ("estimate", "se", "statistic", "p_value"):
        np.testing.assert_allclose(getattr(res, stat), _get(expected, "pilot_dose", "slope", stat, "TRTPN"),
                                   rtol=1e-8)


@pytest.mark.external
@pytest.mark.slow
def test_stored_r_numbers_are_what_the_r_script_writes(shared_dir, tmp_path):
    """Re-run ``Rscript tests/reference/r/ancova_lsmeans.R SHARED_DIR OUT_DIR`` and compare its CSV
    with the stored one, so the expected numbers above cannot drift from their R source."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not installed (scripts/install-external.sh installs r-base-core)")
    ok = subprocess.run(["Rscript", "-e", "quit(status = !all(sapply(c('emmeans', 'car'), requireNamespace, "
                         "quietly = TRUE)))"], capture_output=True, check=False)
    if ok.returncode != 0:
        pytest.skip("R packages emmeans and car are not installed (scripts/install-external.sh)")
    subprocess.run(["Rscript", str(R_CSV.with_suffix(".R")), str(shared_dir), str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    fresh = pd.read_csv(tmp_path / R_CSV.name, keep_default_na=False, dtype={"value": float})
    stored = pd.read_csv(R_CSV, keep_default_na=False, dtype={"value": float})
    pd.testing.assert_frame_equal(fresh.drop(columns="value"), stored.drop(columns="value"))
    np.testing.assert_allclose(fresh.value, stored.value, rtol=1e-12)
