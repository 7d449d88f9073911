"""The v2 pre-registration: population specs from the design facts only, exact columns and rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dermsim.calibration import preregister_v2 as p2
from dermsim.model.population.sampling import compute_population_summary, sample_population
from dermsim.model.population.spec import load_population_spec

EXPECTED_ROWS = [
    ("peds-maxuse", "rux150bid", "css_mean_nM", "Weeks 0-4"),
    ("peds-maxuse", "rux150bid", "bsa_pct_mean", "Week 4"),
    ("peds-maxuse", "rux150bid", "iga_ts_pct", "Week 4"),
    ("true-ad3", "vehicle", "easi_pchg_mean", "Week 8"), ("true-ad3", "vehicle", "easi75_pct", "Week 8"),
    ("true-ad3", "rux075", "easi_pchg_mean", "Week 8"), ("true-ad3", "rux075", "easi75_pct", "Week 8"),
    ("true-ad3", "rux150", "easi_pchg_mean", "Week 8"), ("true-ad3", "rux150", "easi75_pct", "Week 8"),
    ("true-ad3", "active", "n_above_281nM", "Weeks 0-8"),
    ("true-ad-lts", "rux150-as-needed", "time_to_worsening_median_wk", "Weeks 8-52"),
    ("true-ad-lts", "rux150-as-needed", "pct_time_off_treatment", "Weeks 8-52"),
]


@pytest.mark.slow  # tens of seconds on a busy 2-core machine (make test --durations)
def test_population_specs_follow_the_design_facts():
    peds = load_population_spec(p2.PEDS_SPEC)
    assert (peds.age.min_y, peds.age.max_y) == (2.0, 12.0)
    assert peds.eligibility.iga == [3] and peds.eligibility.affected_min_pct == 35.0
    assert peds.severity.affected_pct.mean == 58.0
    s = compute_population_summary(sample_population(p2.PEDS_SPEC, 400, seed=1))
    assert 52 < s["affected_pct_mean"] < 64 and s["iga3_pct"] == 100.0
    lts = load_population_spec(p2.LTS_SPEC)
    ad1 = load_population_spec("true-ad1")
    # adults and adolescents as in TRuE-AD1/2: the same baseline spec, only the name differs
    assert lts.model_dump(exclude={"name", "trial", "description"}) == \
        ad1.model_dump(exclude={"name", "trial", "description"})
    reg = p2.lts_regimen()
    assert reg.periods[0].days == 56 and reg.periods[1].as_needed.start_at == 2.0


@pytest.mark.slow
def test_preregistration_has_exactly_the_issue_rows_and_columns(tmp_path):
    from dermsim.calibration.posterior import default_posterior

    path = p2.write_preregistration_v2(default_posterior(), tmp_path / "v2.csv", seed=3, n_draws=2,
                                       n_replicates=20, pools=(30, 40, 30))
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == p2.PREREG_V2_COLUMNS
    assert [(r["study"], r["arm"], r["quantity"], r["visit"]) for r in rows] == EXPECTED_ROWS
    for r in rows:
        assert float(r["pi90_low"]) <= float(r["pred_median"]) <= float(r["pi90_high"])
        assert int(r["n_replicates"]) == 20


def test_comparison_pairs_each_preregistered_row_with_its_published_outcome(tmp_path):
    """Invented numbers (a fixture, not data): inside/outside and 'not published' rows."""
    from dermsim.calibration.preregister_v2 import PREREG_V2_COLUMNS, compare_preregistration_v2
    from dermsim.calibration.validate import write_csv
    from dermsim.evidence.preregistered_outcomes import PreregisteredOutcomes

    rows = [{"study": "s", "arm": a, "quantity": "q", "visit": "Week 8", "pred_median": 5.0,
             "pi90_low": 1.0, "pi90_high": 9.0, "n_replicates": 10, "posterior_version": "v",
             "created_utc": "t"}
            for a in ("in", "out", "none")]
    path = write_csv(tmp_path / "v2.csv", PREREG_V2_COLUMNS, rows)
    outcomes = PreregisteredOutcomes.model_validate({
        "description": "fixture", "sources": {"fx": {"citation": "test fixture"}},
        "outcome": [{"study": "s", "arm": arm, "quantity": "q", "visit": "Week 8", "value": v, "unit": "%",
                     "source": "fx", "status": "C"} for arm, v in (("in", 8.5), ("out", 9.5))]})
    got = {r["arm"]: r for r in compare_preregistration_v2(path, outcomes)}
    assert got["in"]["inside"] is True and got["out"]["inside"] is False
    assert got["none"]["inside"] is None and got["none"]["observed"] is None


def test_no_outcome_file_means_no_outcomes_yet():
    from dermsim.evidence.preregistered_outcomes import load_preregistered_outcomes

    assert load_preregistered_outcomes(Path("/nonexistent")).outcome == []
