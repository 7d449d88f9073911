"""TrialDesign: built-in scenarios load, round-trip, and bad designs fail in one line."""

from __future__ import annotations

import re

import pytest

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.evidence import get_trial
from dermsim.trial import TrialDesign, list_scenarios, load_design
from dermsim.trial.scenarios import SCENARIO_DIR


def test_builtin_scenarios_match_the_evidence_library():
    assert list_scenarios() == ("true-ad1", "true-ad2", "true-ad3")
    for name in list_scenarios():
        design = load_design(name)
        trial = get_trial(name)
        assert design.n_total == trial.n_total.value
        for arm in trial.arms:
            assert design.arm(arm.id).ratio == arm.ratio
            assert design.arm(arm.id).strength_pct == arm.strength_pct
            assert design.arm(arm.id).planned_n == arm.n_randomized.value
        assert sum(a.planned_n for a in design.arms) == design.n_total


def test_ad3_design_fields():
    d = load_design("true-ad3")
    assert d.itch_min_age_y == 6
    assert [f.name for f in d.stratification.factors] == ["IGASTR", "AGESTR"]
    assert d.stratification.factors[1].status == "A"  # age cut-points are an assumption
    assert d.stratification.n_strata == 4
    assert d.extension.rerandomize_from == ["vehicle"]
    assert d.schedule.vc_end_day == 57 and d.schedule.study_end_day == 365
    urti = d.adverse_events.terms[0]
    # constant hazard reproduces the table's 8-week incidence
    import math

    assert 1 - math.exp(-urti.hazard_per_day("rux150") * 56) == pytest.approx(0.1538, abs=1e-9)


def test_round_trip_and_replace():
    d = load_design("true-ad3")
    assert TrialDesign.from_dict(d.to_dict()) == d
    d2 = d.replace(n_total=100)
    assert d2.n_total == 100 and d.n_total == 330
    with pytest.raises(DataValidationError, match="n_total"):
        d.replace(n_total=0)


def _write(tmp_path, text, name="bad.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture()
def ad3_text():
    return (SCENARIO_DIR / "true-ad3.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("ratio = 1\nplanned_n = 65", "ratio = 0\nplanned_n = 65", "arms.2.ratio"),
        (
            'levels = [2, 3]\nlabels = ["IGA 2", "IGA 3"]',
            "levels = []\nlabels = []",
            "stratification.factors.0",
        ),
        (
            "day = 365\nwindow_before_d = 7\nwindow_after_d = 0",
            "day = 372\nwindow_before_d = 7\nwindow_after_d = 0",
            "schedule",
        ),
        (
            'product = "ruxolitinib cream"\nstrength_pct = 1.5',
            'product = "tacrolimus ointment"\nstrength_pct = 1.5',
            "arms.1.product",
        ),
    ],
)
def test_bad_designs_rejected_in_one_line(tmp_path, ad3_text, old, new, field):
    assert old in ad3_text
    path = _write(tmp_path, ad3_text.replace(old, new, 1))
    with pytest.raises(DataValidationError) as err:
        TrialDesign.from_toml(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("trial design bad.toml: field ")
    assert re.search(rf"field {re.escape(field)}", msg), msg


def test_visit_after_study_end_names_the_visit(tmp_path, ad3_text):
    path = _write(
        tmp_path,
        ad3_text.replace(
            "day = 365\nwindow_before_d = 7\nwindow_after_d = 0",
            "day = 372\nwindow_before_d = 7\nwindow_after_d = 0",
        ),
    )
    with pytest.raises(DataValidationError, match=r"WEEK 52.*after study_end_day 365"):
        TrialDesign.from_toml(path)


def test_other_rejections(tmp_path, ad3_text):
    with pytest.raises(DataValidationError, match="block_size"):
        TrialDesign.from_toml(_write(tmp_path, ad3_text.replace("block_size = 10", "block_size = 7")))
    with pytest.raises(DataValidationError, match="not valid TOML"):
        TrialDesign.from_toml(_write(tmp_path, "id = "))
    with pytest.raises(DataValidationError, match="not found"):
        TrialDesign.from_toml(tmp_path / "missing.toml")
    with pytest.raises(InvalidInputError, match="design must be one of"):
        load_design("true-ad9")
    with pytest.raises(DataValidationError, match="pct must give one percent per arm"):
        TrialDesign.from_toml(
            _write(
                tmp_path,
                ad3_text.replace(
                    "pct = { vehicle = 3.08, rux150 = 4.62, rux075 = 3.85 }",
                    "pct = { vehicle = 3.08, rux150 = 4.62 }",
                ),
            )
        )


def test_example_design_loads():
    from pathlib import Path

    example = Path(__file__).parents[3] / "examples" / "trial_design_example.toml"
    d = TrialDesign.from_toml(example)
    assert d.id == "my-trial"
