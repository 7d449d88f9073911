"""`dermsim validate` with the shipped (v2) posterior: the posterior predictive check of every
calibration target, written to the validation results and shown; the pre-registration untouched."""

from __future__ import annotations

import csv
import hashlib

from dermsim.calibration.preregister_v2 import default_prereg_v2_path
from dermsim.calibration.targets import V2_TARGETS, load_targets
from dermsim.cli import main


def test_validate_shows_the_ppc_of_every_target(tmp_path, capsys):
    prereg = default_prereg_v2_path()
    before = hashlib.sha256(prereg.read_bytes()).hexdigest() if prereg.exists() else None
    # few draws for the VPC and the children's blood levels: their numbers are checked in
    # test_vpc.py and test_children_pk.py; here, that validate writes and shows every part
    assert main(["validate", "--out", str(tmp_path), "--vpc-draws", "2", "--pk-draws", "3"]) == 0
    assert (tmp_path / "children_pk.csv").exists()
    with (tmp_path / "validation.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    targets = load_targets(V2_TARGETS)
    assert [r["target"] for r in rows] == targets.names
    assert {r["inside"] for r in rows} <= {"True", "False"}
    inside = sum(r["inside"] == "True" for r in rows)
    out = capsys.readouterr().out
    assert f"{inside}/{len(rows)} targets inside their 90% interval" in out
    assert "importance sampling" in out or "MCMC on the emulated posterior" in out
    assert "Identifiability" in out
    # the visual predictive check of TRuE-AD1/2 (issue 18): table in the summary, figure and bands
    assert "Visual predictive check, TRuE-AD1/2" in out and (tmp_path / "vpc.png").exists()
    assert "Visual predictive check" in (tmp_path / "summary.md").read_text()
    with (tmp_path / "vpc.csv").open() as fh:
        vpc = list(csv.DictReader(fh))
    assert {r["trial"] for r in vpc} == {"true-ad1", "true-ad2"}
    assert sum(r["observed"] != "" for r in vpc) == 12
    assert (hashlib.sha256(prereg.read_bytes()).hexdigest() if prereg.exists() else None) == before


def test_validate_without_out_is_a_one_line_error(capsys):
    assert main(["validate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out is required" in err[0]
