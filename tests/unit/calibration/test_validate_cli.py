"""`dermsim validate` end to end with the shipped posterior and the committed pre-registration."""

from __future__ import annotations

import csv
import hashlib

import pytest

from dermsim.calibration import validate as v
from dermsim.cli import main


@pytest.mark.slow
def test_validate_writes_the_ladder_and_leaves_the_preregistration_unchanged(tmp_path, capsys):
    prereg = v.default_prereg_path()
    if not prereg.exists():
        pytest.skip("not a source checkout: no validation/preregistered/true-ad3.csv")
    before = hashlib.sha256(prereg.read_bytes()).hexdigest()
    assert main(["validate", "--out", str(tmp_path)]) == 0
    assert hashlib.sha256(prereg.read_bytes()).hexdigest() == before
    with (tmp_path / "validation.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == v.VALIDATION_COLUMNS
    held = [r for r in rows if r["step"] == "b" and r["endpoint"] == "IGA-TS"]
    assert {r["arm"] for r in held} == {"vehicle", "rux075", "rux150"}
    with prereg.open() as fh:
        pre = {(r["arm"], r["endpoint"]): r for r in csv.DictReader(fh)}
    for r in held:  # the comparison uses the committed intervals, not new ones
        assert float(r["pi90_low"]) == pytest.approx(float(pre[(r["arm"], "IGA-TS")]["pi90_low"]), abs=1e-4)
        assert float(r["pi90_high"]) == pytest.approx(float(pre[(r["arm"], "IGA-TS")]["pi90_high"]), abs=1e-4)
    assert {r["step"] for r in rows} >= {"a:true-ad1->true-ad2", "a:true-ad2->true-ad1", "b", "c"}
    assert "(b) held-out TRuE-AD3" in (tmp_path / "summary.md").read_text()
    assert "held-out TRuE-AD3" in capsys.readouterr().out


def test_validate_without_out_is_a_one_line_error(capsys):
    assert main(["validate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out is required" in err[0]
