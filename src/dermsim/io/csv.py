"""CSV and gzip CSV (``.csv``, ``.csv.gz``): an empty field is a missing value.

CSV carries no types, so reading takes them from metadata when there is some (a
:class:`~dermsim.io.dataset.DatasetMeta`, e.g. from ``define.json`` or ``define.xml`` beside the
files, or the ADaM schemas' variable types): a Char variable stays text (``SITEID`` "701" is not a
number), a Num variable becomes ``float64`` as in SAS, a date variable is parsed from ISO 8601.
Without metadata each column is inferred: numbers (``int64`` when all are whole and none is
missing), ISO dates and datetimes (not in ``--DTC`` variables, which are ISO text by definition),
else text. Only an empty field means missing: "NA" is text.

Written values are exact: floats with the shortest repr that reads back to the same double,
dates as ``YYYY-MM-DD``, datetimes as ``YYYY-MM-DDTHH:MM:SS``.
"""

from __future__ import annotations

import csv as _csv
import gzip
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError
from dermsim.io.dataset import (
    Dataset,
    DatasetMeta,
    apply_meta,
    as_dataset,
    check_finite_numbers,
    infer_meta,
    is_number,
    text_to_float,
)

__all__ = ["read_csv", "write_csv"]

_INT = re.compile(r"^[+-]?\d+$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def _iso(values: pd.Series, kind: str) -> pd.Series:
    arr = values.to_numpy(dtype="datetime64[ns]")
    if kind == "date":
        text = np.datetime_as_string(arr, unit="D")
    else:
        whole = np.all(np.isnat(arr) | (arr == arr.astype("datetime64[s]")))
        text = np.datetime_as_string(arr, unit="s" if whole else "us")
    return pd.Series(np.where(np.isnat(arr), "", text), index=values.index, dtype=object)


def write_csv(data: pd.DataFrame | Dataset, path: str | os.PathLike[str], *, name: str | None = None,
              label: str | None = None, column_labels: Mapping[str, str] | None = None,
              lengths: Mapping[str, int] | None = None,
              formats: Mapping[str, str] | None = None) -> Path:
    """Write one dataset as CSV (gzip when ``path`` ends in ``.gz``), atomically; return the path.
    The metadata keywords are checked as for the other formats but only the values are written:
    keep them with :func:`dermsim.io.define.write_define_json`."""
    target = Path(path)
    ds = as_dataset(data, name=name or _name_from_path(target), label=label, column_labels=column_labels,
                    lengths=lengths, formats=formats)
    frame = ds.data.copy()
    for c in ds.meta.columns:
        if c.kind in ("date", "datetime"):
            frame[c.name] = _iso(frame[c.name], c.kind)
    text = frame.to_csv(index=False, quoting=_csv.QUOTE_MINIMAL, lineterminator="\n").encode("utf-8")
    with atomic_path(target) as tmp, open(tmp, "wb") as raw:
        if target.name.lower().endswith(".gz"):
            # no file name and mtime 0 in the gzip header: reruns give the same bytes
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
                gz.write(text)
        else:
            raw.write(text)
    return target


def _name_from_path(path: Path) -> str:
    return path.name.split(".")[0].upper()


def _infer_column(name: str, s: pd.Series) -> pd.Series:
    present = s[s != ""]
    if present.empty:
        return s
    text = present.astype(str)
    if not name.upper().endswith("DTC"):
        if text.str.match(_DATE).all():
            return pd.to_datetime(s.replace("", None), format="ISO8601").astype("datetime64[ns]")
        if text.str.match(_DATETIME).all():
            return pd.to_datetime(s.replace("", None), format="ISO8601").astype("datetime64[ns]")
    if text.str.match(_LEADING_ZERO).any():
        return s
    if not text.map(is_number).all():
        return s
    if len(present) == len(s) and text.str.match(_INT).all() and text.str.len().max() < 19:
        return s.astype("int64")
    return text_to_float(s, name)


def read_csv(path: str | os.PathLike[str], *, meta: DatasetMeta | None = None,
             name: str | None = None) -> Dataset:
    """Read a CSV or CSV.gz dataset; ``meta`` gives types, labels and lengths (see the module
    docstring); columns it does not name are inferred."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: no such CSV file.")
    ds_name = (name or (meta.name if meta else None) or _name_from_path(p)).upper()
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    except (UnicodeDecodeError, EOFError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(f"{p}: not a readable CSV dataset ({reason}).") from None
    dup = [c for c in raw.columns if re.search(r"\.\d+$", c) and c.rsplit(".", 1)[0] in raw.columns]
    if dup:
        raise DataValidationError(f"{p}: column {dup[0].rsplit('.', 1)[0]} appears more than once.")
    known = set(meta.names) if meta else set()
    frame = apply_meta(raw, meta, dataset=ds_name)
    for col in frame.columns:
        if col not in known:
            frame[col] = _infer_column(col, frame[col])
    frame = frame.reset_index(drop=True)
    base = None
    if meta is not None:
        base = DatasetMeta(ds_name, meta.label, tuple(c for c in meta.columns if c.name in frame.columns))
    out_meta = infer_meta(frame, name=ds_name, base=base)
    if base is not None:
        # keep declared lengths and formats where the data agree
        declared = {c.name: c for c in base.columns}
        out_meta = out_meta.replace(columns=tuple(
            declared.get(c.name, c) if declared.get(c.name) and declared[c.name].type == c.type else c
            for c in out_meta.columns))
    return check_finite_numbers(Dataset(frame, out_meta, path=p, format="csv"))
