"""SAS transport v5: lossless round trips, v5 limits with clear messages, pandas' reader agrees,
dates with formats, reproducible headers, damaged files, atomic writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dataset_strategies import adam_frames
from hypothesis import HealthCheck, given, settings

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.io import read_xpt, write_xpt
from dermsim.io.dataset import as_dataset


def _small() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["01-701-1015", "01-701-1023", ""],
        "AVAL": [1.5, np.nan, -2.25e-10],
        "ADT": pd.to_datetime(["2014-01-02", None, "1960-01-01"]),
        "ASTDTM": pd.to_datetime(["2014-01-02 10:11:12", "1959-12-31 23:59:59", None]),
    })


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=adam_frames(unicode=False))
def test_round_trip_is_lossless(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = tmp_path / "adx.xpt"
    write_xpt(frame, path, name="ADX", label="Round trip", column_labels={"AVAL": "Analysis Value"})
    back = read_xpt(path)
    # SAS has one numeric type: integers come back as float64 with the same values
    expected = frame.assign(N=frame["N"].astype("float64"))
    pd.testing.assert_frame_equal(back.data, expected, check_exact=True)
    assert back.meta.name == "ADX" and back.meta.label == "Round trip"
    assert back.meta.column("AVAL").label == "Analysis Value"
    assert back.meta.column("ADT").format == "DATE9." and back.meta.column("ADTM").format == "DATETIME20."


def test_unicode_text_round_trips_as_utf8(tmp_path: Path) -> None:
    df = pd.DataFrame({"TERM": ["Sjögren syndrome", "", "ecz\u00e9ma"]})
    write_xpt(df, tmp_path / "x.xpt", name="X")
    back = read_xpt(tmp_path / "x.xpt")
    assert back.data["TERM"].tolist() == df["TERM"].tolist()
    assert back.meta.column("TERM").length == len("Sjögren syndrome".encode())


def test_declared_lengths_and_labels_are_kept(tmp_path: Path) -> None:
    path = write_xpt(_small(), tmp_path / "adx.xpt", name="adx", label="Test dataset",
                     column_labels={"USUBJID": "Unique Subject Identifier"}, lengths={"USUBJID": 20})
    back = read_xpt(path)
    assert back.meta.name == "ADX"  # dataset names are upper case in SAS
    assert back.meta.column("USUBJID").length == 20
    assert back.meta.column("USUBJID").label == "Unique Subject Identifier"
    assert back.data["USUBJID"].tolist() == ["01-701-1015", "01-701-1023", ""]


def test_all_blank_last_record_is_refused(tmp_path: Path) -> None:
    """v5 has no record count; a trailing all-blank record would read back as padding."""
    with pytest.raises(InvalidInputError, match="last record has only blank"):
        write_xpt(pd.DataFrame({"TERM": ["a", ""]}), tmp_path / "x.xpt", name="X")
    write_xpt(pd.DataFrame({"TERM": ["a", ""], "SEQ": [1, 2]}), tmp_path / "y.xpt", name="Y")
    assert read_xpt(tmp_path / "y.xpt").data["TERM"].tolist() == ["a", ""]


def test_pandas_read_sas_gives_the_same_values(tmp_path: Path) -> None:
    """pandas reads an IBM zero as 16**-65 (5.4e-79), hence the absolute tolerance below 1e-78."""
    path = write_xpt(_small(), tmp_path / "adx.xpt", name="ADX")
    theirs = pd.read_sas(path, format="xport", encoding="utf-8")
    ours = read_xpt(path).data
    assert theirs["USUBJID"].fillna("").tolist() == ours["USUBJID"].tolist()
    np.testing.assert_allclose(theirs["AVAL"].to_numpy(), ours["AVAL"].to_numpy(), rtol=0, atol=1e-78)
    # pandas leaves SAS dates as numbers: days (DATE9.) and seconds (DATETIME20.) since 1960
    days = (ours["ADT"] - pd.Timestamp("1960-01-01")).dt.days.to_numpy(float)
    np.testing.assert_allclose(theirs["ADT"].to_numpy(), days, rtol=0, atol=1e-78)
    secs = (ours["ASTDTM"] - pd.Timestamp("1960-01-01")).dt.total_seconds().to_numpy()
    np.testing.assert_allclose(theirs["ASTDTM"].to_numpy(), secs, rtol=0, atol=1e-78)


@pytest.mark.parametrize(("kwargs", "frame_change", "words"), [
    ({"name": "ADVERYLONG"}, None, ["dataset name", "at most 8", "ADVERYLONG"]),
    ({"name": "1ADSL"}, None, ["SAS name", "1ADSL"]),
    ({}, lambda d: d.rename(columns={"AVAL": "AVALUE123"}), ["variable name", "AVALUE123", "at most 8"]),
    ({"label": "x" * 41}, None, ["dataset label", "at most 40"]),
    ({"column_labels": {"AVAL": "y" * 41}}, None, ["ADX.AVAL", "label", "at most 40"]),
    ({"lengths": {"USUBJID": 201}}, None, ["ADX.USUBJID", "at most 200", "201"]),
    ({"lengths": {"USUBJID": 5}}, None, ["ADX.USUBJID", "length 5", "row 1"]),
    ({}, lambda d: d.assign(AVAL=[1.0, np.inf, 0.0]), ["ADX.AVAL", "inf", "row 2"]),
    ({}, lambda d: d.assign(AVAL=[1.0, 1e-300, 0.0]), ["ADX.AVAL", "1e-300", "row 2"]),
    ({}, lambda d: d.assign(AVAL=[1.0, 1e300, 0.0]), ["ADX.AVAL", "1e+300"]),
    ({}, lambda d: d.assign(FL=[True, False, True]), ["ADX.FL", "boolean"]),
    ({}, lambda d: d.assign(X=[1, "a", 2.0]), ["ADX.X", "strings only"]),
    ({"column_labels": {"NOPE": "x"}}, None, ["NOPE", "not columns"]),
    ({}, lambda d: d.assign(ADT=pd.to_datetime(["2014-01-02 10:00", None, None])), ["ADT", "times of day"]),
])
def test_v5_limits_and_bad_values_give_one_clear_line(tmp_path: Path, kwargs, frame_change, words) -> None:
    df = _small() if frame_change is None else frame_change(_small())
    kwargs = {"name": "ADX", **kwargs}
    with pytest.raises(InvalidInputError) as info:
        write_xpt(df, tmp_path / "adx.xpt", **kwargs)
    msg = str(info.value)
    assert len(msg.splitlines()) == 1
    for w in words:
        assert w in msg, msg
    assert list(tmp_path.iterdir()) == []


def test_header_time_stamps_are_reproducible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    a = write_xpt(_small(), tmp_path / "a.xpt", name="ADX", timestamp=when).read_bytes()
    b = write_xpt(_small(), tmp_path / "b.xpt", name="ADX", timestamp=when).read_bytes()
    assert a == b and b"02JAN26:03:04:05" in a
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    c = write_xpt(_small(), tmp_path / "c.xpt", name="ADX").read_bytes()
    assert c.count(b"01JAN70:00:00:00") == 4


def test_damaged_files_give_one_line(tmp_path: Path) -> None:
    good = write_xpt(_small(), tmp_path / "adx.xpt", name="ADX").read_bytes()
    for name, content in {"empty.xpt": b"", "text.xpt": b"USUBJID,AVAL\n1,2\n",
                          "cut.xpt": good[:500]}.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataValidationError) as info:
            read_xpt(tmp_path / name)
        assert len(str(info.value).splitlines()) == 1 and name in str(info.value)
    with pytest.raises(DataValidationError, match="no such XPT file"):
        read_xpt(tmp_path / "missing.xpt")


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyreadstat

    def half_then_fail(df, path, **kwargs):
        Path(path).write_bytes(b"HEADER RECORD" * 10)
        raise OSError("disk full")

    monkeypatch.setattr(pyreadstat, "write_xport", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_xpt(_small(), tmp_path / "adx.xpt", name="ADX")
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xpt(_small(), tmp_path / "adx.xpt", name="ADX")
    before = path.read_bytes()
    import pyreadstat

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pyreadstat, "write_xport", fail)
    with pytest.raises(KeyboardInterrupt):
        write_xpt(_small().head(1), path, name="ADX")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["adx.xpt"]


def test_filtered_frame_with_gaps_in_its_index(tmp_path: Path) -> None:
    df = _small().iloc[[2, 0]]  # index [2, 0]: rows are written in frame order
    back = read_xpt(write_xpt(df, tmp_path / "adx.xpt", name="ADX")).data
    assert back["USUBJID"].tolist() == ["", "01-701-1015"]
    np.testing.assert_array_equal(back["AVAL"].to_numpy(), [-2.25e-10, 1.5])


def test_dataset_metadata_overrides(tmp_path: Path) -> None:
    ds = as_dataset(_small(), name="ADX", label="First", column_labels={"AVAL": "Old"})
    write_xpt(ds, tmp_path / "adx.xpt", column_labels={"AVAL": "New"})
    back = read_xpt(tmp_path / "adx.xpt")
    assert back.meta.label == "First" and back.meta.column("AVAL").label == "New"
    df, meta = back  # a Dataset unpacks as (frame, metadata)
    assert isinstance(df, pd.DataFrame) and meta.name == "ADX"


def test_reads_the_cdisc_pilot_adsl(shared_dir: Path) -> None:
    path = shared_dir / "data" / "cdisc_pilot" / "adsl.xpt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    ds = read_xpt(path)
    assert ds.data.shape == (254, 49) and ds.meta.name == "ADSL"
    assert ds.meta.column("TRTSDT").format == "DATE9."
    assert ds.data["TRTSDT"].dtype == "datetime64[ns]"
    assert ds.data.loc[ds.data["USUBJID"] == "01-701-1015", "TRTSDT"].iloc[0] == pd.Timestamp("2014-01-02")
    assert ds.meta.column("USUBJID").label == "Unique Subject Identifier"
