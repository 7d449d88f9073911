"""The phase 2 dose-ranging trial (NCT03011892) loads with the trial building blocks, keeps % change
results apart from responder rates, and stays out of ``Evidence.trials``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dermsim.errors import DataValidationError
from dermsim.evidence import load_evidence
from dermsim.evidence._schema import DATA_DIR
from dermsim.evidence.dose_ranging import TRIAL_PHASE2_FILE
from dermsim.evidence.trials import EndpointResult

F = TRIAL_PHASE2_FILE


@pytest.fixture(scope="module")
def p2():
    return load_evidence().dose_ranging.trials["phase2-ad"]


def test_design_and_arms(p2):
    assert (p2.registry_id, p2.n_total.value) == ("NCT03011892", 307)
    arms = {a.id: (a.strength_pct, a.regimen) for a in p2.arms}
    assert arms == {"vehicle": (0.0, "BID"), "rux015qd": (0.15, "QD"), "rux050qd": (0.5, "QD"),
                    "rux150qd": (1.5, "QD"), "rux150bid": (1.5, "BID"), "tac": (0.1, "BID")}
    assert p2.arm("tac").product.startswith("triamcinolone")
    assert (p2.eligibility.bsa_min_pct.value, p2.eligibility.bsa_max_pct.value) == (3, 20)


def test_week4_published_results(p2):
    easi = {r.arm: r.value_pct for r in p2.results("EASI-PCHG", visit_week=4) if r.status == "C"}
    assert easi == {"vehicle": -15.5, "rux150bid": -71.6}
    assert all(r.unit == "% change" for r in p2.results("EASI-PCHG"))
    iga = {r.arm: r.value_pct for r in p2.results("IGA-RESPONSE", visit_week=4) if r.status == "C"}
    assert iga == {"vehicle": 7.7, "rux150bid": 38.0}
    # Arms whose numbers were not found are NF records with no value, never guesses.
    nf = [r for r in p2.results(visit_week=4) if r.status == "NF"]
    assert {r.arm for r in nf} == {"rux015qd", "rux050qd", "rux150qd", "tac"}
    assert all(r.value_pct is None for r in nf)
    assert p2.facts["itch_nrs_change_36h_rux150bid"].value == -1.8


def test_phase2_is_not_a_clinic_trial():
    ev = load_evidence()
    assert "phase2-ad" not in ev.trials
    assert sorted(ev.trials) == ["true-ad1", "true-ad2", "true-ad3"]


def test_pct_change_may_be_negative_but_a_rate_may_not():
    ok = EndpointResult(endpoint="EASI-PCHG", visit="Week 4", arm="a", unit="% change", value_pct=-71.6,
                        source="s", status="C")
    assert ok.value_pct == -71.6
    with pytest.raises(ValueError, match="percentage within"):
        EndpointResult(endpoint="EASI-75", visit="Week 4", arm="a", value_pct=-5, source="s", status="C")
    with pytest.raises(ValueError, match="below -100"):
        EndpointResult(endpoint="EASI-PCHG", visit="Week 4", arm="a", unit="% change", value_pct=-120,
                       source="s", status="C")


def test_result_for_an_unknown_arm_is_rejected(tmp_path: Path):
    d = tmp_path / "evidence"
    shutil.copytree(DATA_DIR, d)
    path = d / F
    text = path.read_text(encoding="utf-8")
    old = 'arm = "rux150bid", unit = "% change", value_pct = -71.6'
    assert old in text
    path.write_text(text.replace(old, old.replace("rux150bid", "rux300bid")), encoding="utf-8")
    load_evidence.cache_clear()
    with pytest.raises(DataValidationError) as err:
        load_evidence(d)
    load_evidence.cache_clear()
    assert str(err.value).startswith(f"evidence file {F}: key trials.phase2-ad.endpoint_results.1.arm: "
                                     "arm 'rux300bid' is not one of")
