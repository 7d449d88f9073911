"""A broken evidence file gives one DataValidationError line naming the file, the key and the problem."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from dermsim.errors import DataValidationError
from dermsim.evidence import load_evidence
from dermsim.evidence._schema import DATA_DIR, Fact

AD3 = "trial_true_ad3.toml"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    out = tmp_path / "evidence"
    shutil.copytree(DATA_DIR, out)
    return out


def corrupt(directory: Path, file: str, old: str, new: str, count: int = 1) -> None:
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {file}: {old!r}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def load_error(directory: Path) -> str:
    load_evidence.cache_clear()
    with pytest.raises(DataValidationError) as err:
        load_evidence(directory)
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_percentage_140_in_a_fact(data_copy):
    corrupt(data_copy, AD3, "female_pct = { value = 54.2,", "female_pct = { value = 140,")
    msg = load_error(data_copy)
    assert msg == (f"evidence file {AD3}: key trials.true-ad3.baseline.female_pct.value: value must be "
                   "a percentage within [0, 100]; got 140.")


def test_percentage_140_in_an_endpoint_result(data_copy):
    corrupt(data_copy, AD3, "value_pct = 56.5,", "value_pct = 140,")
    msg = load_error(data_copy)
    assert re.match(rf"evidence file {AD3}: key trials\.true-ad3\.endpoint_results\.2\.value_pct: "
                    r"value_pct must be a percentage within \[0, 100\]; got 140\.$", msg), msg


def test_source_missing_from_sources_table(data_copy):
    corrupt(data_copy, AD3, 'age_y = { value = 6.5, sd = 2.9, unit = "y", source = "AD3-region"',
            'age_y = { value = 6.5, sd = 2.9, unit = "y", source = "AD3-nowhere"')
    msg = load_error(data_copy)
    assert msg == (f"evidence file {AD3}: key trials.true-ad3.baseline.age_y: source 'AD3-nowhere' "
                   "is not in [sources].")


def test_source_removed_from_sources_table(data_copy):
    corrupt(data_copy, "label.toml", "Label-PP = {", "Label-XX = {")
    msg = load_error(data_copy)
    assert msg.startswith("evidence file label.toml: key facts.indication: source 'Label-PP'"), msg


def test_arm_n_does_not_sum_to_total(data_copy):
    corrupt(data_copy, AD3, 'n_randomized = { value = 131,', 'n_randomized = { value = 132,')
    msg = load_error(data_copy)
    assert msg == (f"evidence file {AD3}: key trials.true-ad3.arms: arms n_randomized "
                   "(65 + 134 + 132 = 331) must equal n_total (330).")


def test_responders_exceed_arm_n(data_copy):
    corrupt(data_copy, AD3, "value_pct = 56.5,", "value_pct = 56.5, n_responders = 200,")
    msg = load_error(data_copy)
    assert msg == (f"evidence file {AD3}: key trials.true-ad3.endpoint_results.2.n_responders: "
                   "n_responders (200) exceeds the N of arm rux150 (131).")


def test_result_for_an_unknown_arm(data_copy):
    corrupt(data_copy, AD3, 'arm = "rux150", value_pct = 56.5', 'arm = "rux300", value_pct = 56.5')
    msg = load_error(data_copy)
    assert msg == (f"evidence file {AD3}: key trials.true-ad3.endpoint_results.2.arm: arm 'rux300' is not "
                   "one of vehicle, rux075, rux150.")


def test_ae_count_exceeds_denominator(data_copy):
    corrupt(data_copy, AD3, "n = 20, pct = 15, denominator = 130", "n = 200, pct = 15, denominator = 130")
    msg = load_error(data_copy)
    assert msg.startswith(f"evidence file {AD3}: key trials.true-ad3.ae.1.n: n (200) must not exceed"), msg


def test_unknown_status(data_copy):
    corrupt(data_copy, "pharmacology.toml", 'unit = "nM", source = "Gong-2021", status = "C"',
            'unit = "nM", source = "Gong-2021", status = "maybe"')
    msg = load_error(data_copy)
    assert msg.startswith("evidence file pharmacology.toml: key topical.css_rux075_nM.status: "), msg
    assert "'C', 'D', 'U' or 'NF'" in msg


def test_nf_fact_with_a_value(data_copy):
    corrupt(data_copy, "label.toml", 'g_per_week = { unit = "g/week", source = "Label-PP", status = "NF"',
            'g_per_week = { value = 60, unit = "g/week", source = "Label-PP", status = "NF"')
    msg = load_error(data_copy)
    assert msg.startswith("evidence file label.toml: key max_amount.1.g_per_week.value: "
                          "a fact with status NF must have no value"), msg


def test_bad_toml(data_copy):
    corrupt(data_copy, "mechanism.toml", 'id = "IL-13"', 'id = "IL-13')
    msg = load_error(data_copy)
    assert msg.startswith("evidence file mechanism.toml: not valid TOML: "), msg
    assert "line" in msg


def test_missing_file(data_copy):
    (data_copy / "comparators.toml").unlink()
    msg = load_error(data_copy)
    assert msg.startswith("evidence file comparators.toml: not found at "), msg


def test_unknown_key_rejected(data_copy):
    corrupt(data_copy, AD3, 'phase = "3"', 'phase = "3"\nphaze = "3"')
    msg = load_error(data_copy)
    assert msg.startswith(f"evidence file {AD3}: key trials.true-ad3.phaze: Extra inputs"), msg


def test_mechanism_blocked_without_jak1_or_jak2(data_copy):
    corrupt(data_copy, "mechanism.toml", 'jaks = ["JAK1", "JAK3"]\njaks_note', 'jaks = ["JAK3"]\njaks_note')
    msg = load_error(data_copy)
    assert msg.startswith("evidence file mechanism.toml: key cytokines.0: blocked_by_ruxolitinib is "
                          "'partly' but jaks (JAK3) include neither JAK1 nor JAK2"), msg


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({"value": None, "status": "C"}, "needs a value"),
    ({"value": 3.0, "status": "NF"}, "must have no value"),
    ({"value": -1.0, "unit": "%", "status": "C"}, "percentage within [0, 100]; got -1"),
    ({"value": [5.0, 101.0], "unit": "%", "status": "C"}, "got 101"),
    ({"value": 1.0, "sd": -2.0, "status": "C"}, "greater than or equal to 0"),
])
def test_fact_rules(kwargs, problem):
    base = {"unit": "mg", "source": "x"}
    with pytest.raises(ValueError, match=re.escape(problem)):
        Fact(**(base | kwargs))


def test_fact_accepts_percent_change_outside_0_100():
    assert Fact(value=-39.3, unit="% change", source="x", status="C").number == -39.3
