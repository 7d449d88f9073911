"""A run of a user's design TOML (not a built-in id) reports from that design and can be rendered
again from its folder: the manifest keeps the design (built-in runs do not, so their bytes stay)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dermsim.trial.scenarios import SCENARIO_DIR
from dermsim.workflows import rerender_report, run_virtual_trial

SCENARIO = SCENARIO_DIR / "true-ad3.toml"


@pytest.mark.slow
def test_user_design_runs_and_rerenders(tmp_path: Path) -> None:
    text = SCENARIO.read_text(encoding="utf-8").replace('id = "true-ad3"', 'id = "my-trial"', 1)
    toml = tmp_path / "my.toml"
    toml.write_text(text, encoding="utf-8")
    run = run_virtual_trial(toml, tmp_path / "run", 4, n=40, posterior="prior")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scenario"] == "my-trial" and manifest["design"]["id"] == "my-trial"
    assert run.design.id == "my-trial" and run.report.is_file()
    assert "my-trial" in run.report.read_text(encoding="utf-8")
    again = rerender_report(tmp_path / "run", tmp_path / "again")
    assert again.report.is_file() and "my-trial" in again.report.read_text(encoding="utf-8")
