"""Dataset-JSON v1.1: written files validate against the CDISC schema, round trips are lossless
(JSON and NDJSON), invalid or damaged documents give one line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from dataset_strategies import adam_frames
from hypothesis import HealthCheck, given, settings

from dermsim.errors import DataValidationError
from dermsim.io import read_dataset_json, validate_dataset_json, write_dataset_json
from dermsim.io.datasetjson import dataset_json_schema


def _small() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["AD3-001", "AD3-002", "AD3-003"],
        "PARAMCD": ["EASI", "EASI", "IGA"],
        "AVAL": [12.5, np.nan, 3.0],
        "AVISITN": [0, 8, 8],
        "ADT": pd.to_datetime(["2025-01-02", None, "2025-03-01"]),
        "ANL01FL": ["Y", "", "Y"],
    })


def test_bundled_schema_is_the_v11_schema() -> None:
    schema = dataset_json_schema()
    assert schema["$id"] == "https://cdisc.org/dataset-json/model"
    assert "datasetJSONCreationDateTime" in schema["required"]
    jsonschema.Draft201909Validator.check_schema(schema)


def test_written_file_validates_against_the_schema(tmp_path: Path) -> None:
    path = write_dataset_json(_small(), tmp_path / "adeff.json", name="ADEFF", label="Efficacy",
                              column_labels={"AVAL": "Analysis Value"},
                              keys=["USUBJID", "PARAMCD", "AVISITN"])
    doc = json.loads(path.read_text())
    jsonschema.Draft201909Validator(dataset_json_schema()).validate(doc)  # independent of our wrapper
    assert doc["datasetJSONVersion"] == "1.1.0" and doc["records"] == 3 and doc["itemGroupOID"] == "IG.ADEFF"
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols["USUBJID"]["dataType"] == "string" and cols["USUBJID"]["length"] == 7
    assert cols["AVAL"]["dataType"] == "double" and cols["AVISITN"]["dataType"] == "integer"
    assert cols["ADT"] == {"itemOID": "IT.ADEFF.ADT", "name": "ADT", "label": "", "dataType": "date",
                           "targetDataType": "integer", "displayFormat": "DATE9."}
    assert [cols[k]["keySequence"] for k in ("USUBJID", "PARAMCD", "AVISITN")] == [1, 2, 3]
    assert doc["rows"][1] == ["AD3-002", "EASI", None, 8, None, ""]
    assert doc["rows"][0][4] == "2025-01-02"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=adam_frames(unicode=True))
def test_round_trip_is_lossless(tmp_path: Path, frame: pd.DataFrame) -> None:
    for suffix in (".json", ".ndjson"):
        path = write_dataset_json(frame, tmp_path / f"adx{suffix}", name="ADX", label="Round trip")
        back = read_dataset_json(path)
        pd.testing.assert_frame_equal(back.data, frame, check_exact=True)
        assert back.meta.label == "Round trip"


def test_ndjson_has_metadata_then_one_row_per_line(tmp_path: Path) -> None:
    path = write_dataset_json(_small(), tmp_path / "adeff.ndjson", name="ADEFF")
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and "rows" not in json.loads(lines[0])
    assert json.loads(lines[2])[0] == "AD3-002"
    validate_dataset_json(path)


def test_creation_time_follows_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = write_dataset_json(_small(), tmp_path / "a.json", name="ADEFF").read_bytes()
    b = write_dataset_json(_small(), tmp_path / "b.json", name="ADEFF").read_bytes()
    assert a == b and b'"datasetJSONCreationDateTime":"2023-11-14T22:13:20Z"' in a


def _doc(tmp_path: Path) -> dict:
    return json.loads(write_dataset_json(_small(), tmp_path / "x.json", name="ADEFF").read_text())


@pytest.mark.parametrize(("edit", "words"), [
    (lambda d: d.pop("itemGroupOID"), ["itemGroupOID", "required"]),
    (lambda d: d.update(datasetJSONVersion="1.0"), ["datasetJSONVersion"]),
    (lambda d: d["columns"][0].update(dataType="text"), ["columns/0/dataType"]),
    (lambda d: d.update(records=5), ["records", "5", "3 rows"]),
    (lambda d: d["rows"][1].pop(), ["row 2", "5 values"]),
    (lambda d: d["columns"].append(dict(d["columns"][0])), ["USUBJID", "more than once"]),
])
def test_invalid_documents_give_one_line(tmp_path: Path, edit, words) -> None:
    doc = _doc(tmp_path)
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataValidationError) as info:
        read_dataset_json(path)
    msg = str(info.value)
    assert len(msg.splitlines()) == 1 and "bad.json" in msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize(("content", "words"), [
    (b"", ["not valid JSON"]),
    (b'{"rows": [', ["not valid JSON", "line 1"]),
    (b"[1, 2]", ["must be a JSON object"]),
    (b"\xff\xfe{}", ["not UTF-8"]),
])
def test_damaged_files_give_one_line(tmp_path: Path, content: bytes, words: list[str]) -> None:
    path = tmp_path / "adsl.json"
    path.write_bytes(content)
    with pytest.raises(DataValidationError) as info:
        read_dataset_json(path)
    assert len(str(info.value).splitlines()) == 1
    for w in words:
        assert w in str(info.value)


@pytest.mark.parametrize(("col", "value", "words"), [
    (2, "twelve", "column AVAL (double) holds 'twelve'"),
    (2, "12.5", "column AVAL (double) holds '12.5'"),
    (3, 1.5, "column AVISITN (integer) holds 1.5"),
    (3, True, "column AVISITN (integer) holds True"),
    (4, "02/01/2025", "column ADT (date)"),
    (0, 7, "column USUBJID (string) holds the non-string value 7"),
])
def test_values_that_disagree_with_their_type_are_named(tmp_path: Path, col: int, value, words: str) -> None:
    doc = _doc(tmp_path)
    doc["rows"][0][col] = value
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    with pytest.raises(DataValidationError) as info:
        read_dataset_json(tmp_path / "bad.json")
    assert words in str(info.value) and len(str(info.value).splitlines()) == 1


def test_iso_text_variables_stay_text_and_decimals_become_numbers(tmp_path: Path) -> None:
    """A ``date`` column without targetDataType is ISO 8601 text (an SDTM --DTC variable)."""
    doc = {"datasetJSONCreationDateTime": "2025-01-01T00:00:00", "datasetJSONVersion": "1.1",
           "itemGroupOID": "IG.AE", "records": 2, "name": "AE", "label": "Adverse Events",
           "columns": [{"itemOID": "IT.AE.AESTDTC", "name": "AESTDTC", "label": "Start", "dataType": "date"},
                       {"itemOID": "IT.AE.DOSE", "name": "DOSE", "label": "Dose", "dataType": "decimal"}],
           "rows": [["2025-01", "1.25"], [None, None]]}
    (tmp_path / "ae.json").write_text(json.dumps(doc))
    ds = read_dataset_json(tmp_path / "ae.json")
    assert ds.data["AESTDTC"].tolist() == ["2025-01", ""]
    assert ds.meta.column("AESTDTC").type == "Char"
    np.testing.assert_array_equal(ds.data["DOSE"].to_numpy(), [1.25, np.nan])


def test_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dermsim.io.datasetjson as mod

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(mod.json, "dumps", boom)
    with pytest.raises(RuntimeError):
        write_dataset_json(_small(), tmp_path / "adeff.json", name="ADEFF")
    assert list(tmp_path.iterdir()) == []
