"""``dermsim model params|export|posterior --posterior ...`` as a pharmacometrician uses them (issue 18)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from dermsim.calibration.posterior import default_posterior, default_posterior_path
from dermsim.cli import main


def test_params_follow_the_posterior_choice(capsys):
    assert main(["model", "params", "--format", "json", "--posterior", "prior"]) == 0
    prior = json.loads(capsys.readouterr().out)
    assert main(["model", "params", "--format", "json"]) == 0
    shipped = json.loads(capsys.readouterr().out)
    post = default_posterior()
    median = post.summary()["k_v"]["median"]
    assert shipped["vehicle"]["k_v"]["value"] == pytest.approx(median)
    assert prior["vehicle"]["k_v"]["value"] != pytest.approx(median)
    assert shipped["vehicle"]["k_v"]["from"].startswith(f"posterior {post.version}")
    assert prior["vehicle"]["k_v"]["from"] == "parameter file"
    assert shipped["pk"]["CL"]["from"] == "parameter file"          # not calibrated: the file's value
    assert main(["model", "params", "--group", "vehicle"]) == 0
    assert post.version in capsys.readouterr().out


def test_export_under_the_posterior_runs_in_roadrunner_with_scores(tmp_path):
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (extra 'sbml') is not installed")
    out = tmp_path / "patient.xml"
    assert main(["model", "export", "--format", "sbml", "--out", str(out), "--typical"]) == 0
    text = out.read_text()
    assert default_posterior().version in text
    rr = roadrunner.RoadRunner(str(out))
    res = rr.simulate(0, 24 * 28, 29, ["time", "EASI", "IGA", "NRS", "cp_nM"])
    assert res[0, 1] == pytest.approx(8.6, rel=1e-9)          # EASI starts at the patient's baseline
    assert res[-1, 1] < res[0, 1] and res[-1, 3] < res[0, 3]  # the typical child improves on 1.5 % cream
    assert set(np.unique(res[:, 2])) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert 0 < res[-1, 4] < 281


def test_export_a_schedule_as_events(tmp_path):
    from pathlib import Path

    regimen = Path(__file__).parents[2] / "examples" / "regimens" / "holiday_1wk.toml"
    out = tmp_path / "p.ant"
    assert main(["model", "export", "--format", "antimony", "--out", str(out), "--regimen", str(regimen),
                 "--posterior", "prior"]) == 0
    text = out.read_text()
    # one self-rescheduling dose event per period and daily time, bounded by the period's days
    assert "dose_p1_0: at (time >= next_p1_0 && next_p1_0 < 672.0)" in text
    assert "dose_p3_1: at (time >= next_p3_1 && next_p3_1 < 1344.0)" in text
    assert "next_p3_0 = 840.0" in text and "dose_p2" not in text          # the holiday has none
    assert "model default parameters" in text


def test_export_and_posterior_bad_input_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["model", "export", "--out", str(tmp_path / "x.xml"), "--posterior", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.json" in err[0] and not (tmp_path / "x.xml").exists()
    assert main(["model", "posterior", "--posterior", "prior"]) == 2
    assert "no posterior" in capsys.readouterr().err


def test_posterior_summary_json_and_table(tmp_path, capsys):
    assert main(["model", "posterior", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    post = default_posterior()
    assert data["version"] == post.version and len(data["parameters"]) == len(post.names)
    for row in data["parameters"]:
        assert row["q05"] <= row["median"] <= row["q95"]
    m = np.asarray(data["correlations"]["matrix"])
    assert m.shape == (len(post.names),) * 2 and np.allclose(np.diag(m), 1.0)
    assert data["ess"] == pytest.approx(post.ess)
    names = {c["check"] for c in data["checks"]}
    assert "posterior predictive 90 % interval holds the target" in names
    assert main(["model", "posterior", "--correlations"]) == 0
    assert "correlations" in capsys.readouterr().out
    # a posterior file without its diagnostics file: summarized, and the missing checks are said
    copy = tmp_path / "copy.json"
    shutil.copy(default_posterior_path(), copy)
    assert main(["model", "posterior", "--posterior", str(copy)]) == 0
    assert "no diagnostics file" in capsys.readouterr().out


def test_posterior_fitted_on_other_parameter_files_is_summarized_as_unusable(capsys):
    from dermsim.calibration.posterior import POSTERIOR_DIR

    old = POSTERIOR_DIR / "adult-trials-1-s20261125.json"   # the first version's ABC-SMC posterior
    if not old.exists():
        pytest.skip("the first version's posterior is no longer shipped")
    assert main(["model", "posterior", "--posterior", str(old), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    usable = data["checks"][0]
    assert usable["ok"] is False and "fitted on other parameter files" in usable["note"]
    assert any(c["check"] == "ABC-SMC generations" for c in data["checks"])
    # simulations refuse it (the one rule)
    assert main(["model", "params", "--posterior", str(old)]) == 2
