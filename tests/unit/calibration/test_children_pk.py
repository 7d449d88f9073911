"""The post-hoc check of children's blood levels (calibration/children_pk.py): its rows, the
consistency rule, the committed rows the clinic states, and that asking for the trial mean Css
changes no number of the pre-registration's TRuE-AD3 prediction."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.calibration.children_pk import (
    CHILDREN_PK_COLUMNS,
    children_check,
    compute_children_pk,
    read_children_pk,
)
from dermsim.calibration.posterior import DEFAULT_VERSION, default_posterior
from dermsim.calibration.preregister_v2 import predict_true_ad3

SMALL = {"n_draws": 3, "n_replicates": 30}


@pytest.fixture(scope="module")
def rows():
    return compute_children_pk(default_posterior(), seed=5, pools=(40, 60), **SMALL)


def test_rows_hold_the_published_values_and_the_consistency_rule(rows) -> None:
    assert [(r["study"], r["arm"], r["quantity"], r["absorption"]) for r in rows] == [
        ("true-ad3", "active", "n_above_281nM", "phase 3"),
        ("true-ad3", "rux075", "css_mean_nM", "phase 3"),
        ("true-ad3", "rux150", "css_mean_nM", "phase 3"),
        ("peds-maxuse", "rux150bid", "css_mean_nM", "phase 3"),
        ("peds-maxuse", "rux150bid", "css_mean_nM", "maximum-use design (eta_maxuse)")]
    assert all(set(r) == set(CHILDREN_PK_COLUMNS) for r in rows)
    assert [r["observed"] for r in rows] == [0.0, 27.0, 27.0, 98.2, 98.2]
    for r in rows:
        assert r["pi90_low"] <= r["pred_median"] <= r["pi90_high"]
        inside = r["pi90_low"] <= r["observed"] <= r["pi90_high"]
        reaches = r["pi90_low"] <= r["observed"]
        assert r["consistent"] == (inside if r["comparison"] == "equal" else reaches)
    # the 0.75 % arm's trial mean is below the 1.5 % arm's (less than proportional, Gong 2021)
    assert rows[1]["pred_median"] < rows[2]["pred_median"] < 2 * rows[1]["pred_median"]
    # the maximum-use design's own absorption is lower than phase 3's (eta_maxuse < 0)
    assert rows[4]["pred_median"] < rows[3]["pred_median"]


def _row(absorption: str, study: str, quantity: str, lo: float, hi: float, obs: float,
         ok: bool) -> dict[str, str]:
    return {"study": study, "quantity": quantity, "absorption": absorption, "pred_median": str((lo + hi) / 2),
            "pi90_low": str(lo), "pi90_high": str(hi), "observed": str(obs), "consistent": str(ok)}


def test_the_clinic_check_reads_the_phase3_rows_and_says_when_the_model_expects_too_many() -> None:
    above = _row("phase 3", "true-ad3", "n_above_281nM", 2.0, 10.0, 0.0, False)
    peds = _row("phase 3", "peds-maxuse", "css_mean_nM", 90.0, 200.0, 98.2, True)
    other = _row("maximum-use design (eta_maxuse)", "peds-maxuse", "css_mean_nM", 20.0, 60.0, 98.2, False)
    high = children_check([above, peds, other])
    assert high is not None and high.over_predicts_above and not high.all_consistent
    assert (high.above.pi90_low, high.peds.observed) == (2.0, 98.2)
    fine = children_check([{**above, "pi90_low": "0.0", "consistent": "True"}, peds, other])
    # the maximum-use design's row is not the clinic's absorption: it does not count
    assert fine is not None and fine.all_consistent and not fine.over_predicts_above
    assert children_check([other]) is None and children_check([]) is None


def test_the_committed_rows_are_the_shipped_posteriors() -> None:
    committed = read_children_pk()
    assert committed and {r["posterior_version"] for r in committed} == {DEFAULT_VERSION}
    check = children_check(committed)
    assert check is not None and (check.above.observed, check.peds.observed) == (0.0, 98.2)
    assert read_children_pk("no-such-version") == []


def test_asking_for_the_trial_mean_changes_no_other_number() -> None:
    post = default_posterior()
    plain = predict_true_ad3(post, 11, n_pool=50, **SMALL)
    with_css = predict_true_ad3(post, 11, n_pool=50, with_css=True, **SMALL)
    assert set(with_css) - set(plain) == {("rux075", "css_mean_nM"), ("rux150", "css_mean_nM")}
    for key, x in plain.items():
        np.testing.assert_array_equal(with_css[key], x)


def test_the_pediatric_mean_in_the_pharmacology_facts_is_the_published_outcome() -> None:
    """The card's measured pediatric level (pharmacology.toml) and the held-out record
    (preregistered_outcomes.toml) hold the same number."""
    from dermsim.evidence import load_evidence
    from dermsim.evidence.preregistered_outcomes import load_preregistered_outcomes

    fact = load_evidence().pharmacology.topical["css_children_maxuse_nM"]
    outcome = load_preregistered_outcomes().find("peds-maxuse", "rux150bid", "css_mean_nM")
    assert outcome is not None and fact.number == outcome.number and fact.status == outcome.status
