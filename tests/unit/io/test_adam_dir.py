"""ADaM folders: format preference, every format reads back the same, define.json, schema checks
on read, atomic folder writes, and the CDISC pilot folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ad_adam_data import make_ad_adam
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.io import adam as adam_mod
from dermsim.io import find_datasets, read_adam_dir, read_define, write_adam_dir, write_define_json


@pytest.fixture(scope="module")
def adam() -> dict[str, pd.DataFrame]:
    data = make_ad_adam(n=20)
    data["adsl"]["TRTSDT"] = pd.Timestamp("2025-01-06") + pd.to_timedelta(np.arange(20), unit="D")
    return data


def test_every_format_reads_back_the_same(tmp_path: Path, adam: dict[str, pd.DataFrame]) -> None:
    formats = ("xpt", "json", "ndjson", "parquet", "csv", "csv.gz")
    paths = write_adam_dir(adam, tmp_path / "adam", formats=formats)
    assert set(paths) == {"adsl", "adeff", "adae"} and set(paths["adsl"]) == set(formats)
    reference = None
    for fmt in formats:
        one = tmp_path / f"only-{fmt.replace('.', '-')}"
        one.mkdir()
        for by_fmt in paths.values():
            (one / by_fmt[fmt].name).write_bytes(by_fmt[fmt].read_bytes())
        (one / "define.json").write_bytes((tmp_path / "adam" / "define.json").read_bytes())
        got = read_adam_dir(one)
        assert {k: v.format for k, v in got.items()} == dict.fromkeys(got, fmt.split(".")[0])
        # SAS has one numeric type: compare with integers as float64
        frames = {k: v.data.apply(lambda s: s.astype(float) if s.dtype.kind in "iu" else s)
                  for k, v in got.items()}
        if reference is None:
            reference = frames
            continue
        for name, frame in frames.items():
            pd.testing.assert_frame_equal(frame, reference[name], check_exact=True, obj=f"{name} ({fmt})")
    expected = adam["adsl"].apply(lambda s: s.astype(float) if s.dtype.kind in "iu" else s)
    pd.testing.assert_frame_equal(reference["adsl"], expected.reset_index(drop=True), check_exact=True)


def test_preference_xpt_over_json_over_parquet_over_csv(tmp_path: Path,
                                                        adam: dict[str, pd.DataFrame]) -> None:
    write_adam_dir({"adsl": adam["adsl"]}, tmp_path / "a", formats=("csv.gz", "parquet", "json", "xpt"))
    assert find_datasets(tmp_path / "a")["adsl"].name == "adsl.xpt"
    (tmp_path / "a" / "adsl.xpt").unlink()
    assert find_datasets(tmp_path / "a")["adsl"].name == "adsl.json"
    (tmp_path / "a" / "adsl.json").unlink()
    assert find_datasets(tmp_path / "a")["adsl"].name == "adsl.parquet"
    (tmp_path / "a" / "adsl.parquet").unlink()
    assert find_datasets(tmp_path / "a")["adsl"].name == "adsl.csv.gz"
    assert "define" not in find_datasets(tmp_path / "a")


def test_define_json_holds_dataset_and_variable_metadata(tmp_path: Path,
                                                        adam: dict[str, pd.DataFrame]) -> None:
    write_adam_dir(adam, tmp_path / "adam", formats=("xpt",))
    doc = json.loads((tmp_path / "adam" / "define.json").read_text())
    by_name = {d["name"]: d for d in doc["datasets"]}
    adsl = by_name["ADSL"]
    assert adsl["label"] == "Subject-Level Analysis Dataset" and adsl["structure"] == "ADSL"
    assert adsl["keys"] == ["USUBJID"] and adsl["records"] == 20
    var = {v["name"]: v for v in adsl["variables"]}
    assert var["USUBJID"] == {"name": "USUBJID", "label": "Unique Subject Identifier", "type": "Char",
                              "length": 7, "format": None, "order": 2, "kind": "char"}
    assert var["TRTSDT"]["format"] == "DATE9." and var["TRTSDT"]["kind"] == "date"
    assert var["AGE"]["type"] == "Num" and var["AGE"]["label"] == "Age"
    assert by_name["ADEFF"]["keys"] == ["USUBJID", "PARAMCD", "AVISITN"]
    meta = read_define(tmp_path / "adam" / "define.json")["ADSL"]
    assert meta.column("SUBJID").type == "Char" and meta.names[0] == "STUDYID"


def test_write_define_json_from_frames(tmp_path: Path) -> None:
    path = write_define_json({"adx": pd.DataFrame({"A": ["x"], "B": [1.5]})}, tmp_path / "define.json")
    doc = json.loads(path.read_text())
    assert doc["datasets"][0]["name"] == "ADX"
    assert [v["type"] for v in doc["datasets"][0]["variables"]] == ["Char", "Num"]


def test_schema_problems_on_read_name_dataset_variable_and_keys(tmp_path: Path,
                                                               adam: dict[str, pd.DataFrame]) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    adsl = pd.concat([adam["adsl"], adam["adsl"].iloc[[2]]])
    adsl.to_csv(folder / "adsl.csv", index=False)
    with pytest.raises(DataValidationError) as info:
        read_adam_dir(folder)
    assert str(info.value) == "ADSL has 2 records for USUBJID AD3-003; each subject must appear once."
    assert len(read_adam_dir(folder, check=False)["adsl"].data) == 21


def test_absent_dataset_and_bad_folder(tmp_path: Path, adam: dict[str, pd.DataFrame]) -> None:
    write_adam_dir({"adsl": adam["adsl"]}, tmp_path / "a", formats=("parquet",))
    with pytest.raises(DataValidationError, match=r"dataset ADEFF not found .* found ADSL"):
        read_adam_dir(tmp_path / "a", datasets=["adsl", "ADEFF"])
    assert list(read_adam_dir(tmp_path / "a", datasets=["ADSL"])) == ["adsl"]
    with pytest.raises(InvalidInputError, match="existing directory"):
        read_adam_dir(tmp_path / "nope")


def test_damaged_file_in_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "adsl.xpt").write_bytes(b"garbage")
    with pytest.raises(DataValidationError) as info:
        read_adam_dir(tmp_path)
    assert "adsl.xpt" in str(info.value) and len(str(info.value).splitlines()) == 1


def test_bad_formats_and_v5_names_are_refused_before_writing(tmp_path: Path,
                                                             adam: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InvalidInputError, match="formats must be among"):
        write_adam_dir(adam, tmp_path / "a", formats=("sas7bdat",))
    with pytest.raises(InvalidInputError, match="got xls"):
        write_adam_dir(adam, tmp_path / "a", formats="xpt, xls")
    long = {"adsl": adam["adsl"].rename(columns={"TRT01PN": "TRT01PNUM"})}
    with pytest.raises(InvalidInputError, match="TRT01PNUM"):
        write_adam_dir(long, tmp_path / "a")
    assert not (tmp_path / "a").exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_interrupted_write_leaves_no_folder(tmp_path: Path, adam: dict[str, pd.DataFrame],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = adam_mod._WRITERS["parquet"]

    def fail_on_second(ds, path, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-way
        return real[1](ds, path, **kwargs)

    monkeypatch.setitem(adam_mod._WRITERS, "parquet", (".parquet", fail_on_second))
    with pytest.raises(KeyboardInterrupt):
        write_adam_dir(adam, tmp_path / "adam", formats=("xpt", "parquet"))
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_old_folder(tmp_path: Path, adam: dict[str, pd.DataFrame],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_adam_dir(adam, tmp_path / "adam", formats=("parquet",))
    before = {p.name: p.read_bytes() for p in (tmp_path / "adam").iterdir()}

    def boom(ds, path, **kwargs):
        raise OSError("disk full")

    monkeypatch.setitem(adam_mod._WRITERS, "xpt", (".xpt", boom))
    with pytest.raises(OSError):
        write_adam_dir(adam, tmp_path / "adam", formats=("parquet", "xpt"))
    assert {p.name: p.read_bytes() for p in (tmp_path / "adam").iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["adam"]


def test_reruns_give_identical_bytes(tmp_path: Path, adam: dict[str, pd.DataFrame],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    fmts = ("xpt", "json", "parquet", "csv.gz")
    write_adam_dir(adam, tmp_path / "a", formats=fmts)
    write_adam_dir({k: v.copy() for k, v in adam.items()}, tmp_path / "b", formats=fmts)
    for p in sorted((tmp_path / "a").iterdir()):
        assert p.read_bytes() == (tmp_path / "b" / p.name).read_bytes(), p.name


def test_cdisc_pilot_folder_reads_and_checks(shared_dir: Path) -> None:
    pilot = shared_dir / "data" / "cdisc_pilot"
    if not pilot.is_dir():
        pytest.skip(f"CDISC pilot data not found at {pilot}")
    got = read_adam_dir(pilot, datasets=["adsl", "adae", "adtte", "adcibc", "adadas"])
    assert {k: v.format for k, v in got.items()} == {"adsl": "xpt", "adae": "xpt", "adtte": "xpt",
                                                     "adcibc": "xpt", "adadas": "csv"}
    adas = got["adadas"]
    assert adas.data.shape == (12463, 40)
    assert adas.data["SITEID"].dtype == object and adas.data["ADT"].dtype == "datetime64[ns]"
    # labels come from the pilot's define.xml (which, as published, labels CHG "Baseline Value")
    assert adas.meta.column("PARAMCD").label == "Parameter Code"
    assert adas.meta.column("CHG").label == "Baseline Value"


DEFINE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3" xmlns:def="http://www.cdisc.org/ns/def/v2.1"
     xmlns:xml="http://www.w3.org/XML/1998/namespace">
 <Study OID="S"><MetaDataVersion OID="M" Name="m">
  <ItemGroupDef OID="IG.ADSL" Name="ADSL" Repeating="No">
   <Description><TranslatedText xml:lang="en">Subject-Level Analysis Dataset</TranslatedText></Description>
   <ItemRef ItemOID="IT.ADSL.TRTSDT" OrderNumber="3"/>
   <ItemRef ItemOID="IT.ADSL.USUBJID" OrderNumber="1" KeySequence="1"/>
   <ItemRef ItemOID="IT.ADSL.AGE" OrderNumber="2"/>
  </ItemGroupDef>
  <ItemDef OID="IT.ADSL.USUBJID" Name="USUBJID" DataType="text" Length="11">
   <Description><TranslatedText xml:lang="en">Unique Subject Identifier</TranslatedText></Description>
  </ItemDef>
  <ItemDef OID="IT.ADSL.AGE" Name="AGE" DataType="integer" Length="8"/>
  <ItemDef OID="IT.ADSL.TRTSDT" Name="TRTSDT" DataType="integer" Length="8" def:DisplayFormat="DATE9."/>
 </MetaDataVersion></Study>
</ODM>
"""


def test_define_xml_types_a_csv(tmp_path: Path) -> None:
    (tmp_path / "define.xml").write_text(DEFINE_XML)
    meta = read_define(tmp_path / "define.xml")["ADSL"]
    assert meta.label == "Subject-Level Analysis Dataset"
    assert [(c.name, c.type, c.length, c.format) for c in meta.columns] == [
        ("USUBJID", "Char", 11, None), ("AGE", "Num", 8, None), ("TRTSDT", "Num", 8, "DATE9.")]
    (tmp_path / "adsl.csv").write_text("USUBJID,AGE,TRTSDT\n0101,7,2025-01-06\n0102,,\n")
    ds = read_adam_dir(tmp_path)["adsl"]
    assert ds.data["USUBJID"].tolist() == ["0101", "0102"]
    assert ds.data["AGE"].dtype == "float64" and ds.data["TRTSDT"].dtype == "datetime64[ns]"
    assert ds.meta.column("USUBJID").label == "Unique Subject Identifier"


def test_damaged_define_is_named(tmp_path: Path) -> None:
    (tmp_path / "define.xml").write_text("<ODM><Study>")
    with pytest.raises(DataValidationError, match=r"define\.xml: not well-formed XML"):
        read_define(tmp_path / "define.xml")
    (tmp_path / "define.json").write_text('{"datasets": [{"label": "x"}]}')
    with pytest.raises(DataValidationError, match=r"not a dermsim define\.json"):
        read_define(tmp_path / "define.json")
