"""Pharmacometrician's workflow at the command line (issue 18): your own covariate table, per-patient
covariates, parameters, Css and provenance in the trajectory Parquet."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq

from dermsim.cli import main


def test_simulate_with_a_covariate_table_writes_covariates_params_css_and_provenance(tmp_path):
    table = pd.DataFrame({"AGE": [4.0, 9.5, 30.0], "SEX": ["F", "m", "Female"], "WT": [16.0, 31.5, 70.0],
                          "affected_pct": [12.0, 5.5, 20.0], "EASI0": [7.5, 3.2, 14.0]})
    src = tmp_path / "mine.csv"
    table.to_csv(src, index=False)
    out = tmp_path / "traj.parquet"
    assert main(["simulate", "--covariates", str(src), "--seed", "4", "--weeks", "1", "--out", str(out),
                 "--record", "easi,cp_nM,params", "--posterior", "prior"]) == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 3 * 8
    first = frame[frame["day"] == 0].sort_values("patient")
    assert list(first["age_y"]) == [4.0, 9.5, 30.0] and list(first["sex"]) == ["F", "M", "F"]
    assert list(first["weight_kg"]) == [16.0, 31.5, 70.0] and list(first["easi"]) == [7.5, 3.2, 14.0]
    assert list(first["affected_pct"]) == [12.0, 5.5, 20.0]
    assert (first["css_nM"] > 0).all() and any(c.startswith("param_") for c in frame.columns)
    # a parameter with IIV differs between patients and is constant over a patient's days
    assert frame.groupby("patient")["param_CL"].nunique().eq(1).all() and first["param_CL"].nunique() == 3
    meta = json.loads(pq.read_schema(out).metadata[b"dermsim"])
    prov = meta["provenance"]
    assert prov["seed"]["entropy"] == 4 and prov["dermsim_version"] and prov["posterior_choice"] == "prior"
    assert "posterior_version" in prov and "posterior_sha256" in prov
    assert meta["covariate_table"]["given"] == ["affected_pct", "age_y", "easi0", "sex", "weight_kg"]


def test_bad_covariate_table_is_one_line_and_exit_2(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("AGE,SEX,WT\n5,F,18\n6,F,18000\n")
    out = tmp_path / "t.parquet"
    assert main(["simulate", "--covariates", str(src), "--seed", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "column weight_kg, row 2" in err[0] and str(src) in err[0]
    assert not out.exists()


def test_simulate_keeps_the_visit_days_asked_for_with_a_full_run_s_numbers(tmp_path):
    every, visits = tmp_path / "every.parquet", tmp_path / "visits.parquet"
    common = ["simulate", "--n", "30", "--seed", "3", "--weeks", "4", "--record", "easi,iga,nrs_weekly,cp_nM",
              "--posterior", "prior"]
    assert main([*common, "--out", str(every)]) == 0
    assert main([*common, "--days", "0:28:7", "--out", str(visits)]) == 0
    full, kept = pd.read_parquet(every), pd.read_parquet(visits)
    assert sorted(kept["day"].unique()) == [0, 7, 14, 21, 28] and len(kept) == 30 * 5
    pd.testing.assert_frame_equal(kept, full[full["day"] % 7 == 0].reset_index(drop=True))


def test_simulate_on_an_hourly_grid_writes_hours_and_grid_metadata(tmp_path):
    out = tmp_path / "hours.parquet"
    assert main(["simulate", "--n", "4", "--seed", "2", "--weeks", "1", "--hours", "0:48:0.5", "--record",
                 "cp_nM,D,easi", "--posterior", "prior", "--out", str(out)]) == 0
    frame = pd.read_parquet(out)
    assert len(frame) == 4 * 97
    assert {"patient", "time_h", "cp_nM", "D", "css_nM", "age_y"} <= set(frame.columns)
    assert "easi" not in frame.columns
    meta = json.loads(pq.read_schema(out).metadata[b"dermsim"])
    assert meta["grid"]["unit"] == "h" and meta["grid"]["n"] == 97 and meta["grid"]["last"] == 48.0
