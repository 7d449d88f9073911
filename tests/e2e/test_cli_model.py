"""``dermsim model params``, ``dermsim model export`` and ``dermsim simulate`` driven as a user would."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from _vp import make_population

from dermsim.cli import main


def test_params_prints_every_parameter_with_unit_and_source(capsys):
    assert main(["model", "params", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"pk", "disease", "itch", "observation", "vehicle", "jak"} <= set(data)
    for group in data.values():
        for spec in group.values():
            assert spec["unit"] and spec["source"]
    assert main(["model", "params", "--group", "pk"]) == 0
    assert "prior, to be calibrated" in capsys.readouterr().out


def test_export_sbml_runs_in_roadrunner(tmp_path):
    roadrunner = pytest.importorskip("roadrunner", reason="libroadrunner (extra 'sbml') is not installed")
    out = tmp_path / "patient.xml"
    assert main(["model", "export", "--format", "sbml", "--out", str(out), "--typical"]) == 0
    rr = roadrunner.RoadRunner(str(out))
    res = rr.simulate(0, 24 * 14, 15, ["time", "D", "cp_nM"])
    assert res[-1, 1] < res[0, 1]          # the typical child improves on 1.5 % cream
    assert 0 < res[-1, 2] < 281            # and plasma stays far below the 281 nM threshold


def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "x.xml"
    assert main(["model", "export", "--out", str(out), "--strength", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "strength_pct" in err[0] and not out.exists()
    assert main(["model", "export", "--out", str(out), "--interval-h", "0"]) == 2
    assert "interval_h" in capsys.readouterr().err
    assert main(["simulate", "--n", "0", "--seed", "1", "--out", str(tmp_path / "t.parquet")]) == 2
    assert "--n must be an integer >= 1" in capsys.readouterr().err


def test_simulate_writes_parquet_with_metadata(tmp_path, monkeypatch):
    import dermsim.workflows.model as wf_model

    monkeypatch.setattr(wf_model, "_sample", lambda name, n, seed: make_population(n, seed=seed, name=name))
    out = tmp_path / "traj.parquet"
    assert main(["simulate", "--population", "true-ad3", "--strength", "1.5", "--n", "40", "--weeks", "2",
                 "--seed", "1", "--out", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == 40 * 15 and {"patient", "day", "easi", "iga", "cp_nM"} <= set(table.column_names)
    meta = json.loads(table.schema.metadata[b"dermsim"])
    assert meta["regimen"]["strength_pct"] == 1.5 and meta["population"] == "true-ad3"
    assert meta["seed"]["entropy"] == 1


def test_bad_parameter_file_and_negative_grams_exit_2(tmp_path, capsys):
    from dermsim.model.parameters import PARAMETER_DIR

    pdir = tmp_path / "params"
    pdir.mkdir()
    for f in PARAMETER_DIR.glob("*.toml"):
        (pdir / f.name).write_text(f.read_text())
    old = 'unit = "1/week"\nomega = 0.3\ndescription = "itch relaxation'
    text = (pdir / "itch.toml").read_text().replace(old, old.split("\n", 1)[1], 1)
    (pdir / "itch.toml").write_text(text)
    assert main(["model", "params", "--params", str(pdir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "itch.toml: parameter 'k_Q' has no 'unit'" in err[0]
    out = tmp_path / "x.xml"
    assert main(["model", "export", "--out", str(out), "--grams", "-1"]) == 2
    assert "grams_per_application must be > 0" in capsys.readouterr().err and not out.exists()
    args = ["simulate", "--n", "5", "--seed", "1", "--grams", "-2", "--out", str(tmp_path / "t.parquet")]
    assert main(args) == 2
    assert "grams_per_application" in capsys.readouterr().err


def test_simulate_true_ad3_end_to_end(tmp_path):
    population = pytest.importorskip("dermsim.model.population.sampling")
    if not hasattr(population, "sample_population"):
        pytest.skip("dermsim.model.population.sampling.sample_population is not present")
    out = tmp_path / "traj.parquet"
    assert main(["simulate", "--population", "true-ad3", "--strength", "0.75", "--n", "60", "--weeks", "1",
                 "--seed", "3", "--record", "easi,iga,nrs_weekly,cp_nM", "--out", str(out)]) == 0
    frame = pq.read_table(out).to_pandas()
    base = frame[frame["day"] == 0]
    assert len(base) == 60 and base["iga"].isin([2, 3]).all() and (base["cp_nM"] == 0).all()
    assert (frame[frame["day"] == 7]["cp_nM"] > 0).all()
