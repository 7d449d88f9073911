"""Second-version targets: every entry from the evidence, the extended held-out list refused."""

from __future__ import annotations

import tomllib

import pytest

from dermsim.calibration.targets import (
    HELD_OUT_PK_WORDS,
    HELD_OUT_RESULT_WORDS,
    TARGETS_DIR,
    V2_TARGETS,
    load_targets,
)
from dermsim.errors import DataValidationError
from dermsim.evidence import load_evidence


def _code(path) -> str:
    """The file without comments, lower case."""
    return "\n".join(line.split("#", 1)[0] for line in path.read_text().lower().splitlines())


@pytest.mark.parametrize("path", sorted(TARGETS_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_no_targets_file_names_a_held_out_study_or_result(path):
    code = _code(path)
    # pediatric maximum-use trial, TRuE-AD3 (EASI-75, EASI % change, 281 nM; its IGA-TS is not a target
    # either), the long-term as-needed period of TRuE-AD1/2
    for word in ("true-ad3", "peds", "pediatric", "paediatric", "child", "2-11", "lts", "as-needed",
                 "as_needed", "worsening", "off_treatment", "281"):
        assert word not in code, f"{path.name} names held-out {word!r}"
    raw = tomllib.loads(path.read_text())
    for entry in raw.get("trial_result", []):
        assert entry["trial"] != "true-ad3"
        if entry["trial"] in ("true-ad1", "true-ad2"):
            assert float(entry["visit_week"]) <= 8
    for entry in raw.get("pk", []):
        assert not any(w in entry["key"].lower() for w in HELD_OUT_PK_WORDS)


def test_v2_targets_come_from_the_evidence_at_full_weight():
    ts = load_targets(V2_TARGETS)
    ev = load_evidence()
    assert ts.method == "laplace-is" and ts.trial_sd_logit == pytest.approx(0.3)
    assert {t.weight for t in ts.targets} == {1.0}
    trials = {t.trial for t in ts.targets}
    assert trials == {"true-ad1", "true-ad2", "phase2-ad", "maxuse-adult"}
    # separate virtual populations for TRuE-AD1 and TRuE-AD2
    pops = {a.id: a.population for a in ts.sim_arms}
    assert pops["true-ad1/rux150"] == "true-ad1" and pops["true-ad2/rux150"] == "true-ad2"
    for t in ts.targets:
        assert t.sim_arm in pops and t.stat
        if t.evidence_key.startswith("pk_maxuse_adult."):
            _, group, field = t.evidence_key.split(".")
            fact = getattr(ev.pk_maxuse_adult.groups[group], field)
            assert t.value == (fact.sd if t.stat.startswith(("css_sd", "F_sd")) else fact.value)
    stats = {t.stat for t in ts.targets}
    assert {"css_mean", "css_sd", "F_mean", "F_sd", "t_half_h", "cmax_cmin", "tmax_h",
            "css_mean@bsa25-40", "css_mean@bsa40-101", "easi_pchg@d28", "IGA-TS@d28"} <= stats
    pchg = [t for t in ts.targets if t.kind == "continuous"]
    assert pchg and all(t.value < 0 and t.se > 0 for t in pchg)


@pytest.mark.parametrize("patch, message", [
    (('trial = "true-ad1"\nendpoint = "IGA-TS"', 'trial = "true-ad3"\nendpoint = "IGA-TS"'), "pediatric"),
    (('visit_week = 8\narms = ["vehicle", "rux075", "rux150"]\n\n[[trial_result]]\ntrial = "true-ad1"\n'
      'endpoint = "EASI-75"', 'visit_week = 52\narms = ["vehicle", "rux075", "rux150"]\n\n[[trial_result]]\n'
      'trial = "true-ad1"\nendpoint = "EASI-75"'), "long-term"),
    (('key = "pk_maxuse_adult.bsa_25_40.css_nM"', 'key = "pk_maxuse_peds.overall.css_nM"'), "pediatric"),
    (('population = "true-ad2"', 'population = "populations/peds-maxuse.toml"'), "pediatric"),
])
def test_a_held_out_v2_entry_is_refused(tmp_path, patch, message):
    text = V2_TARGETS.read_text()
    assert patch[0] in text
    path = tmp_path / "t.toml"
    path.write_text(text.replace(patch[0], patch[1], 1))
    with pytest.raises(DataValidationError, match=message):
        load_targets(path)


def test_held_out_words_cover_the_long_term_results():
    assert {"lts", "as-needed", "worsening"} <= set(HELD_OUT_RESULT_WORDS)
