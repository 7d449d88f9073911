"""ARD files: CSV and Parquet round trips at full precision, quick-look tables, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.io.ard import read_ard, write_ard


def _ard() -> pd.DataFrame:
    ctx = ArdContext(analysis_id="t1", dataset="ADSL", population='ITTFL == "Y"', group="TRT01P",
                     method="demographics")
    rows = make_rows(ctx, {"n": 3, "mean": 1 / 3, "sd": np.nan}, variable="AGE", group_level="A")
    rows += make_rows(ctx, {"p_value": 0.1 + 0.2}, variable="AGE")
    rows += make_rows(ctx.replace(analysis_id="t/2"), {"count": 2, "pct": 42.65}, variable="SEX",
                      variable_level="F", group_level="B")
    return frame_from_rows(rows)


def test_csv_and_parquet_round_trip_exactly(tmp_path: Path) -> None:
    ard = _ard()
    paths = write_ard(ard, tmp_path / "out", tables=False)
    for kind in ("csv", "parquet"):
        back = read_ard(paths[kind])
        pd.testing.assert_frame_equal(back.reset_index(drop=True), ard.reset_index(drop=True),
                                      check_exact=True)
    assert not list((tmp_path / "out").glob(".*part"))


def test_quick_look_tables_round_half_away(tmp_path: Path) -> None:
    pytest.importorskip("dermsim.report.format", reason="the rounding function is not present yet")
    paths = write_ard(_ard(), tmp_path, titles={"t1": "Demographics"})
    text = paths["table:t1"].read_text()
    assert text.startswith("t1: Demographics") and "0.3333" in text and "NE" in text
    assert "0.3000" in text                                # p-value: 4 decimals
    assert "42.65" in paths["table:t/2"].read_text()       # 4 significant digits keep 42.65
    assert paths["table:t/2"].name == "t_2.txt"


def test_invalid_ard_is_not_written(tmp_path: Path) -> None:
    bad = _ard().assign(stat_name="average")
    with pytest.raises(InvalidInputError, match="stat_name"):
        write_ard(bad, tmp_path / "x")
    assert not (tmp_path / "x" / "ard.csv").exists()
    (tmp_path / "broken.csv").write_text("analysis_id,stat_name\nx,n\n")
    with pytest.raises(DataValidationError, match=r"broken\.csv"):
        read_ard(tmp_path / "broken.csv")
