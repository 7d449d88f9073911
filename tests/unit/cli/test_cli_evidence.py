"""``dermsim evidence list`` and ``dermsim evidence show TRIAL`` as a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dermsim.cli import main
from dermsim.evidence import Trial, load_evidence
from dermsim.evidence._schema import DATA_DIR


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_show_true_ad3_prints_design_arms_results_and_sources(capsys):
    code, out, err = run(["evidence", "show", "true-ad3"], capsys)
    assert code == 0, err
    for text in ("TRuE-AD3", "NCT04921969", "2:2:1", "Eligibility", "Arms", "134 patients",
                 "131 patients", "65 patients", "Baseline characteristics", "6.5 y (SD 2.9)",
                 "8.6 EASI points (SD 5.4)", "Endpoint results", "IGA-TS", "10.8%", "36.6%", "56.5%",
                 "Adverse events", "COVID-19", "6/130 (5%)", "Sources",
                 "[AD3-JAAD] Eichenfield LF", "[not-found] Not found"):
        assert text in out, text
    # The age stratum cut-points are NF and shown as such, with their source key.
    age_row = next(line for line in out.splitlines() if "stratum: age" in line)
    assert "NF" in age_row and "not-found" in age_row


def test_show_true_ad1_marks_unconfirmed_and_pooled(capsys):
    code, out, _ = run(["evidence", "show", "TRUE-AD1"], capsys)
    assert code == 0
    easi_rows = [line for line in out.splitlines() if "EASI-75" in line]
    assert easi_rows and all(" U " in line for line in easi_rows)
    assert "TRuE-AD1 and TRuE-AD2 pooled" in out
    assert "132/499 (27%)" in out


def test_show_json_is_the_stored_trial(capsys):
    code, out, _ = run(["evidence", "show", "true-ad3", "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert Trial.from_dict(doc["trial"]) == load_evidence().trials["true-ad3"]
    assert doc["pooled"] == []
    assert "AD3-JAAD" in doc["sources"] and "Papp-2021" not in doc["sources"]


def test_bad_format_is_one_line_exit_2(capsys):
    code, _, err = run(["evidence", "show", "true-ad3", "--format", "xml"], capsys)
    assert code == 2
    assert err == "dermsim: error: --format must be one of table, json; got 'xml'.\n"


def test_list_counts_facts_by_status(capsys):
    code, out, _ = run(["evidence", "list"], capsys)
    assert code == 0
    for name in ("trial_true_ad3.toml", "trial_true_ad1_ad2.toml", "label.toml", "pharmacology.toml",
                 "mechanism.toml", "comparators.toml", "natural_history.toml", "true-ad3"):
        assert name in out, name
    row = next(line for line in out.splitlines() if "mechanism.toml" in line)
    n_cytokines = len(load_evidence().mechanism.cytokines)
    assert f"{n_cytokines} cytokines" in row


def test_unknown_trial_is_one_line_exit_2(capsys):
    code, out, err = run(["evidence", "show", "true-ad9"], capsys)
    assert code == 2
    assert err == "dermsim: error: trial must be one of true-ad1, true-ad2, true-ad3; got 'true-ad9'.\n"
    assert "Traceback" not in out + err


@pytest.mark.parametrize("command", [["evidence", "show", "true-ad3"], ["evidence", "list"]])
def test_corrupted_file_is_one_line_naming_file_and_key(tmp_path: Path, capsys, command):
    data = tmp_path / "ev"
    shutil.copytree(DATA_DIR, data)
    path = data / "trial_true_ad3.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("female_pct = { value = 54.2,",
                                                             "female_pct = { value = 140,"), encoding="utf-8")
    code, out, err = run([*command, "--data-dir", str(data)], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("dermsim: error: evidence file trial_true_ad3.toml: "
                          "key trials.true-ad3.baseline.female_pct.value: value must be a percentage")
    assert out == ""
