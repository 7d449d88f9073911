"""The calibration targets: read from evidence keys, nothing held out (TRuE-AD3, max-use, pediatric PK)."""

from __future__ import annotations

import tomllib

import pytest

from dermsim.calibration.targets import DEFAULT_TARGETS, HELD_OUT_PK_WORDS, TARGETS_DIR, load_targets
from dermsim.errors import DataValidationError
from dermsim.evidence import get_trial, load_evidence


@pytest.mark.parametrize("path", sorted(p for p in TARGETS_DIR.glob("*.toml") if p.name != "v2.toml"),
                         ids=lambda p: p.name)
def test_no_first_version_targets_file_holds_a_held_out_evidence_key(path):
    raw = tomllib.loads(path.read_text())
    trials = {e["trial"] for e in raw["trial_result"]}
    assert trials <= {"true-ad1", "true-ad2"} and trials
    assert len(load_targets(path)) in (12, 21)
    for entry in raw["pk"]:
        assert entry["key"].startswith("pharmacology.topical.")
        assert not any(w in entry["key"].lower() for w in HELD_OUT_PK_WORDS)
    text = path.read_text().lower()
    # no TRuE-AD3 key anywhere outside comments
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert "true-ad3" not in code and "must" not in code and "pediatric" not in code


def test_every_target_equals_its_evidence_fact():
    ts = load_targets()
    ev = load_evidence()
    assert len(ts) == 21
    for t in ts.targets:
        if t.kind == "binary":
            r = get_trial(t.trial).results(t.endpoint, arm=t.arm, visit_week=t.visit_week)[0]
            assert t.value == pytest.approx(r.value_pct / 100, abs=1e-12)
            assert t.status == r.status and t.source == r.source
            assert t.weight == (1.0 if r.status == "C" else 0.25)
        else:
            fact = ev.pharmacology.topical[t.evidence_key.split(".")[-1]]
            assert t.value == fact.value
    iga = [t for t in ts.targets if t.endpoint == "IGA-TS"]
    assert {t.status for t in iga} == {"C"}
    assert {t.status for t in ts.targets if t.endpoint in ("EASI-75", "NRS4")} == {"U"}


def test_the_observed_ad3_values_are_not_among_the_targets():
    ts = load_targets()
    ad3 = [r.value_pct / 100 for r in get_trial("true-ad3").results("IGA-TS", visit_week=8)
           if r.value_pct is not None]
    assert ad3, "the evidence should hold the TRuE-AD3 IGA-TS results"
    assert not any(t.trial == "true-ad3" for t in ts.targets)


@pytest.mark.parametrize("patch, message", [
    ('trial = "true-ad1"', "held out"),
    ('key = "pharmacology.topical.css_rux075_nM"', "maximum-use"),
])
def test_a_held_out_entry_is_refused(tmp_path, patch, message):
    text = DEFAULT_TARGETS.read_text()
    if "trial" in patch:
        text = text.replace(patch, 'trial = "true-ad3"', 1)
    else:
        text = text.replace(patch, 'key = "pharmacology.topical.must_css_nM"', 1)
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(DataValidationError, match=message):
        load_targets(path)
