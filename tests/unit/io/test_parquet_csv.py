"""Parquet and CSV(.gz): lossless round trips, empty = missing, typing from metadata, the CDISC
pilot CSV.gz reading identically to its XPT, damaged files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dataset_strategies import adam_frames
from hypothesis import HealthCheck, given, settings

from dermsim.errors import DataValidationError
from dermsim.io import read_csv, read_define, read_parquet, read_xpt, write_csv, write_parquet
from dermsim.io.dataset import as_dataset


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=adam_frames(unicode=True))
def test_parquet_round_trip_is_lossless_with_metadata(tmp_path: Path, frame: pd.DataFrame) -> None:
    path = write_parquet(frame, tmp_path / "adx.parquet", name="ADX", label="Round trip",
                         column_labels={"AVAL": "Analysis Value"})
    back = read_parquet(path)
    pd.testing.assert_frame_equal(back.data, frame, check_exact=True)
    assert back.meta.label == "Round trip" and back.meta.column("AVAL").label == "Analysis Value"
    assert pq.read_schema(path).field("AVAL").metadata[b"label"] == b"Analysis Value"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=adam_frames(unicode=True))
def test_csv_round_trip_is_lossless_given_the_metadata(tmp_path: Path, frame: pd.DataFrame) -> None:
    ds = as_dataset(frame, name="ADX")
    for name in ("adx.csv", "adx.csv.gz"):
        back = read_csv(write_csv(ds, tmp_path / name), meta=ds.meta)
        # a CSV has no integer type once typed by metadata: Num is float64 as in SAS
        pd.testing.assert_frame_equal(back.data, frame.assign(N=frame["N"].astype(float)), check_exact=True)


def test_csv_without_metadata_infers_types_and_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / "adsl.csv"
    path.write_text("USUBJID,SITEID,AGE,WEIGHT,TRTSDT,ASTDTM,RFSTDTC,COMMENT,EMPTY\n"
                    "01-701-1015,701,63,54.4,2014-01-02,2014-01-02T10:11:12,2014-01-02,NA,\n"
                    "01-701-1023,064,,,,,2012-08,\"a, b\",\n")
    ds = read_csv(path)
    df = ds.data
    assert ds.meta.name == "ADSL"
    assert df["SITEID"].tolist() == ["701", "064"]  # a leading zero means a code, not a number
    assert df["AGE"].tolist()[0] == 63 and np.isnan(df["AGE"].iloc[1])
    assert df["TRTSDT"].dtype == "datetime64[ns]" and pd.isna(df["TRTSDT"].iloc[1])
    assert ds.meta.column("TRTSDT").format == "DATE9." and ds.meta.column("ASTDTM").format == "DATETIME20."
    assert df["RFSTDTC"].tolist() == ["2014-01-02", "2012-08"]  # --DTC stays ISO text
    assert df["COMMENT"].tolist() == ["NA", "a, b"]  # only an empty field is missing
    assert df["EMPTY"].tolist() == ["", ""]


def test_csv_metadata_types_text_codes(tmp_path: Path) -> None:
    ds = as_dataset(pd.DataFrame({"SUBJID": ["1015", "1023"], "AGE": [63.0, 64.0]}), name="ADSL")
    path = write_csv(ds, tmp_path / "adsl.csv.gz")
    assert read_csv(path).data["SUBJID"].tolist() == [1015, 1023]  # untyped: numbers
    assert read_csv(path, meta=ds.meta).data["SUBJID"].tolist() == ["1015", "1023"]


def test_csv_gz_is_reproducible(tmp_path: Path) -> None:
    df = pd.DataFrame({"A": ["x", "y"], "B": [1.0, 2.5]})
    a = write_csv(df, tmp_path / "a.csv.gz", name="A").read_bytes()
    b = write_csv(df, tmp_path / "b.csv.gz", name="A").read_bytes()
    assert a == b
    assert gzip.decompress(a).decode() == "A,B\nx,1.0\ny,2.5\n"


def test_num_variable_holding_text_is_named(tmp_path: Path) -> None:
    ds = as_dataset(pd.DataFrame({"USUBJID": ["a", "b"], "AGE": [1.0, 2.0]}), name="ADSL")
    path = tmp_path / "adsl.csv"
    path.write_text("USUBJID,AGE\na,1\nb,old\n")
    with pytest.raises(DataValidationError, match=r"ADSL\.AGE: a Num variable holds the text 'old'"):
        read_csv(path, meta=ds.meta)


@pytest.mark.parametrize(("name", "content", "words"), [
    ("adsl.csv", b"", ["not a readable CSV"]),
    ("adsl.csv.gz", b"not gzip at all", ["not a readable CSV"]),
    ("adsl.csv", b"\xff\xfe\x00A,B\n", ["not a readable CSV"]),
    ("adsl.csv", b"A,A\n1,2\n", ["column A appears more than once"]),
])
def test_damaged_csv_gives_one_line(tmp_path: Path, name: str, content: bytes, words: list[str]) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        read_csv(tmp_path / name)
    assert len(str(info.value).splitlines()) == 1 and name in str(info.value)
    for w in words:
        assert w in str(info.value)


def test_damaged_parquet_gives_one_line(tmp_path: Path) -> None:
    (tmp_path / "adsl.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(DataValidationError, match="not a readable Parquet file"):
        read_parquet(tmp_path / "adsl.parquet")


def test_foreign_parquet_without_our_metadata(tmp_path: Path) -> None:
    import datetime as dt

    table = pa.table({"USUBJID": ["a", None], "ADT": pa.array([dt.date(2020, 1, 2), None], pa.date32())})
    pq.write_table(table, tmp_path / "adx.parquet")
    ds = read_parquet(tmp_path / "adx.parquet")
    assert ds.data["USUBJID"].tolist() == ["a", ""]
    assert ds.data["ADT"].dtype == "datetime64[ns]" and ds.meta.column("ADT").format == "DATE9."


def test_failed_parquet_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1")
        raise OSError("interrupted")

    monkeypatch.setattr(pq, "write_table", boom)
    with pytest.raises(OSError):
        write_parquet(pd.DataFrame({"A": [1.0]}), tmp_path / "a.parquet", name="A")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["adsl", "adae", "adtte", "adcibc"])
def test_pilot_csv_gz_reads_identically_to_xpt(shared_dir: Path, name: str) -> None:
    """The pilot's CSV.gz, typed by its define.xml, equals its XPT: values, dtypes, dates."""
    pilot = shared_dir / "data" / "cdisc_pilot"
    if not (pilot / f"{name}.xpt").is_file():
        pytest.skip(f"CDISC pilot data not found at {pilot}")
    define = read_define(pilot / "define.xml")
    from_csv = read_csv(pilot / f"{name}.csv.gz", meta=define[name.upper()])
    from_xpt = read_xpt(pilot / f"{name}.xpt")
    pd.testing.assert_frame_equal(from_csv.data, from_xpt.data, check_exact=True)
    assert [c.type for c in from_csv.meta.columns] == [c.type for c in from_xpt.meta.columns]
    differ = {k for k, v in from_csv.meta.labels.items() if from_xpt.meta.labels[k] != v}
    # the pilot's define.xml labels ADCIBC.ANL01FL "Analysis Record Flag 01", its XPT "Analysis Flag 01"
    assert differ <= ({"ANL01FL"} if name == "adcibc" else set())
