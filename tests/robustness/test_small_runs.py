"""Valid input that used to fail: ``dermsim run true-ad3`` with very small N.

With 2-4 subjects some seeds give a trial without a child old enough for the itch score (no NRS4
records), without any adverse event in the vehicle-controlled period, without a vehicle subject, or
with too few records for the MMRM. Each of those is a not-estimable analysis ("NE" with its reason
in the ARD's ``error`` column), never exit 2. The (n, seed) pairs are the ones that failed before
the fix, one per kind of failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dermsim.cli import main
from dermsim.io.ard import read_ard


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "seed", "absent"),
    [
        (2, 1, "nrs4-w8"),       # no subject with itch scores: PARAMCD NRS4 absent
        (3, 2, "teae-summary"),  # no subject in the vehicle-controlled period with an AE (empty ADAE rows)
        (4, 5, "easi-pchg-mmrm"),  # MMRM fixed effects not of full rank on the few records
    ],
)
def test_tiny_runs_report_not_estimable_analyses(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 n: int, seed: int, absent: str) -> None:
    out = tmp_path / "run"
    assert main(["run", "true-ad3", "--n", str(n), "--seed", str(seed), "--out", str(out)]) == 0, (
        capsys.readouterr().err)
    ard = read_ard(out / "ard.csv")
    part = ard[ard["analysis_id"] == absent]
    assert len(part), f"analysis {absent} is missing from the ARD"
    if absent == "teae-summary":
        # no event is a result: zero subjects with a TEAE in every column, no error
        anyae = part[(part["variable_level"] == "ANY") & (part["stat_name"] == "count")]
        assert len(anyae) and (anyae["stat_value"] == 0).all() and (part["error"] == "").all()
    else:
        assert (part["error"] != "").all()
        assert part.loc[part["stat_name"] == "p_value", "stat_value"].isna().all()
    # every analysis of the plan is in the ARD, and the report and its tables were written
    assert (out / "report.html").is_file() and any((out / "tlf").glob("*.rtf"))
    # a comparison with the empty or absent control is "NE" in the tables, never another cell's value
    if absent == "nrs4-w8":
        html = (out / "report.html").read_text()
        assert ">NE<" in html
