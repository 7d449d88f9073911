"""`dermsim calibrate` with the first version's method (ABC-SMC, a targets file with method abc-smc):
a reduced run is reproducible and resumable. The shipped posterior is the second version's
(test_shipped_posterior_v2.py)."""

from __future__ import annotations

import json

import pytest

from dermsim.calibration.fit import CalibrationConfig
from dermsim.calibration.smc import SMCConfig
from dermsim.calibration.targets import DEFAULT_TARGETS
from dermsim.cli import main


@pytest.mark.slow
def test_cli_calibrate_reduced_run_is_reproducible(tmp_path):
    args = ["calibrate", "--seed", "5", "--n-vp", "40", "--particles", "5", "--proposals", "10",
            "--generations", "2", "--targets", str(DEFAULT_TARGETS)]
    assert main([*args, "--out", str(tmp_path / "a.json")]) == 0
    assert main([*args, "--out", str(tmp_path / "b.json")]) == 0
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["draws"] == b["draws"] and a["weights"] == b["weights"] and a["archive"] == b["archive"]
    assert (tmp_path / "a.diagnostics.json").exists()
    assert not (tmp_path / "a.json.checkpoint.npz").exists()


@pytest.mark.slow
def test_cli_resume_after_interruption_gives_the_uninterrupted_posterior(tmp_path):
    from dermsim.calibration.fit import calibrate

    args = ["calibrate", "--seed", "6", "--n-vp", "40", "--particles", "6", "--proposals", "12",
            "--generations", "3", "--targets", str(DEFAULT_TARGETS)]
    assert main([*args, "--out", str(tmp_path / "full.json")]) == 0
    out = tmp_path / "resumed.json"
    # an interrupted run: one generation done and checkpointed beside --out, no posterior yet
    cfg = CalibrationConfig(n_vp=40, smc=SMCConfig(n_particles=6, n_proposals=12, n_generations=3))
    calibrate(6, config=cfg, checkpoint=out.with_name(out.name + ".checkpoint.npz"), stop_after=1)
    assert not out.exists()
    assert main([*args, "--out", str(out), "--resume"]) == 0
    a = json.loads((tmp_path / "full.json").read_text())
    b = json.loads(out.read_text())
    assert a["draws"] == b["draws"] and a["archive"] == b["archive"]
