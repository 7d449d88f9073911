"""What every dataset reader returns and every writer takes: a frame plus its metadata.

The in-memory form follows SAS semantics, so that the same data read from XPT, Dataset-JSON,
Parquet or CSV compares equal:

* a **Char** variable is an ``object`` column of ``str``; the missing value is ``""`` (SAS blank);
* a **Num** variable is ``float64`` (or ``int64`` where the format keeps integers: Parquet,
  Dataset-JSON); the missing value is ``NaN``;
* a **date** (SAS format ``DATE9.``) or **datetime** (``DATETIME20.``) is a ``datetime64[ns]``
  column; the missing value is ``NaT``. On disk it is a SAS number (days or seconds since
  1960-01-01) in XPT and an ISO 8601 string in Dataset-JSON and CSV.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from dermsim.errors import DataValidationError, InvalidInputError

__all__ = [
    "ColumnMeta",
    "Dataset",
    "DatasetMeta",
    "as_dataset",
    "canonical_frame",
    "infer_meta",
]

VarType = Literal["Char", "Num"]
DATE_FORMATS = ("DATE", "YYMMDD", "E8601DA", "IS8601DA", "MMDDYY", "DDMMYY")
DATETIME_FORMATS = ("DATETIME", "E8601DT", "IS8601DT")
SAS_EPOCH = np.datetime64("1960-01-01", "ns")
_SAS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def temporal_kind(fmt: str | None) -> str | None:
    """``"date"``, ``"datetime"`` or None for a SAS display format such as ``DATE9.``."""
    if not fmt:
        return None
    stem = re.sub(r"[0-9.]+$", "", fmt.upper())
    if stem in DATETIME_FORMATS:
        return "datetime"
    if stem in DATE_FORMATS:
        return "date"
    return None


@dataclass(frozen=True)
class ColumnMeta:
    """One variable: name, label, SAS type, length in bytes (Char) and display format."""

    name: str
    label: str = ""
    type: VarType = "Num"
    length: int | None = None
    format: str | None = None

    @property
    def kind(self) -> str:
        """``"char"``, ``"num"``, ``"date"`` or ``"datetime"``."""
        if self.type == "Char":
            return "char"
        return temporal_kind(self.format) or "num"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "type": self.type, "length": self.length,
                "format": self.format}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnMeta:
        vtype = d.get("type", "Num")
        if vtype not in ("Char", "Num"):
            raise InvalidInputError(f"variable {d.get('name')}: type must be 'Char' or 'Num'; got {vtype!r}.")
        length = d.get("length")
        return cls(name=str(d["name"]), label=str(d.get("label") or ""), type=vtype,
                   length=None if length is None else int(length), format=d.get("format") or None)


@dataclass(frozen=True)
class DatasetMeta:
    """Dataset name and label, and its variables in order."""

    name: str
    label: str = ""
    columns: tuple[ColumnMeta, ...] = ()

    def column(self, name: str) -> ColumnMeta | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def labels(self) -> dict[str, str]:
        return {c.name: c.label for c in self.columns}

    @property
    def types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}

    @property
    def lengths(self) -> dict[str, int | None]:
        return {c.name: c.length for c in self.columns}

    @property
    def formats(self) -> dict[str, str]:
        return {c.name: c.format for c in self.columns if c.format}

    def replace(self, **changes: Any) -> DatasetMeta:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatasetMeta:
        return cls(name=str(d["name"]), label=str(d.get("label") or ""),
                   columns=tuple(ColumnMeta.from_dict(c) for c in d.get("columns", ())))


@dataclass(frozen=True)
class Dataset:
    """A frame with its metadata, and where it came from. Unpacks as ``df, meta = ...``."""

    data: pd.DataFrame
    meta: DatasetMeta
    path: Path | None = None
    format: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        yield self.data
        yield self.meta

    @property
    def name(self) -> str:
        return self.meta.name


def utf8_lengths(values: pd.Series) -> np.ndarray:
    """Length in UTF-8 bytes of each string; vectorised (NumPy code points), encoding in Python
    only the values that are not ASCII."""
    if values.empty:
        return np.zeros(0, dtype=np.int64)
    arr = values.to_numpy(dtype=str)
    lengths = np.char.str_len(arr).astype(np.int64)
    width = arr.dtype.itemsize // 4
    if width:
        wide = (arr.view(np.uint32).reshape(len(arr), width) > 127).any(axis=1)
        for i in np.flatnonzero(wide):
            lengths[i] = len(arr[i].encode("utf-8"))
    return lengths


def _byte_len(values: pd.Series) -> int:
    return max(1, int(utf8_lengths(values).max())) if len(values) else 1


# pandas.api.types.infer_dtype kinds whose values all are numbers (never bool), or all dates or
# datetimes (all have .isoformat)
_NUMBER_KINDS = frozenset({"integer", "floating", "mixed-integer-float"})
_DATE_KINDS = frozenset({"date", "datetime"})


def canonical_frame(df: pd.DataFrame, *, dataset: str = "dataset",
                    formats: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Return ``df`` in the in-memory form above: strings with ``""`` for missing, ``float64``
    for nullable numbers, ``datetime64[ns]`` for dates; raise on what no CDISC format holds."""
    df = df.reset_index(drop=True)  # row order is the data; the labels of a filtered frame are not
    out = {}
    for col in df.columns:
        s = df[col]
        name = str(col)
        fmt = (formats or {}).get(name)
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            raise InvalidInputError(f"{dataset}.{name}: time-zone aware datetimes have no SAS form; "
                                    "convert to local time (tz_localize(None)) first.")
        if pd.api.types.is_bool_dtype(s):
            raise InvalidInputError(f"{dataset}.{name}: boolean columns have no SAS type; use a "
                                    "'Y'/'' flag (Char) or 1/0 (Num).")
        if pd.api.types.is_datetime64_any_dtype(s):
            out[name] = s.astype("datetime64[ns]")
        elif s.dtype == object and pd.api.types.infer_dtype(s, skipna=False) == "string":
            # already canonical (strings, none missing), as every writer gets a Dataset's frame: each
            # output format canonicalizes again, and the general path below took about a quarter of
            # a small trial's writing time
            out[name] = s
        elif isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s) \
                or pd.api.types.is_object_dtype(s):
            obj = s.astype(object)
            notna = obj.notna()
            present = obj[notna]
            filled = obj.where(notna, "")
            # infer_dtype sees the common cases in C; the Python loops decide only the rare others
            kind = pd.api.types.infer_dtype(present, skipna=False)
            if present.empty or kind == "string":
                out[name] = filled.astype(object)
            elif kind in _NUMBER_KINDS or (kind not in _DATE_KINDS and all(
                    isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
                    for v in present)):
                out[name] = pd.to_numeric(obj).astype("float64")
            elif temporal_kind(fmt) or kind in _DATE_KINDS or all(hasattr(v, "isoformat") for v in present):
                out[name] = pd.to_datetime(obj, errors="raise").astype("datetime64[ns]")
            else:
                bad = next(v for v in filled if not isinstance(v, str))
                raise InvalidInputError(f"{dataset}.{name}: a Char variable must hold strings only; "
                                        f"got {type(bad).__name__} {bad!r}.")
        elif pd.api.types.is_integer_dtype(s) and s.dtype.kind in "iu" and not s.hasnans:
            out[name] = s.astype("int64")
        elif pd.api.types.is_numeric_dtype(s):
            out[name] = pd.to_numeric(s).astype("float64")
        elif pd.api.types.is_timedelta64_dtype(s):
            raise InvalidInputError(f"{dataset}.{name}: timedelta columns are not supported; store "
                                    "durations as numbers with the unit in the name (e.g. ADURN).")
        else:
            raise InvalidInputError(f"{dataset}.{name}: dtype {s.dtype} has no SAS type (Char or Num).")
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def _default_format(name: str, s: pd.Series) -> str:
    """A SAS format for a datetime64 column: ADaM names first (*DTM datetime, *DT date), else a
    date when no value has a time of day."""
    upper = name.upper()
    if upper.endswith("DTM"):
        return "DATETIME20."
    if upper.endswith("DT"):
        return "DATE9."
    v = s.dropna()
    return "DATE9." if (v == v.dt.normalize()).all() else "DATETIME20."


def infer_meta(df: pd.DataFrame, *, name: str, label: str = "",
               column_labels: Mapping[str, str] | None = None,
               lengths: Mapping[str, int] | None = None,
               formats: Mapping[str, str] | None = None,
               base: DatasetMeta | None = None) -> DatasetMeta:
    """Metadata for a canonical frame; explicit arguments win over ``base``, which wins over
    what the data show (type from dtype, Char length = longest value in UTF-8 bytes)."""
    labels = {**(base.labels if base else {}), **(column_labels or {})}
    lens = {**({k: v for k, v in base.lengths.items() if v} if base else {}), **(lengths or {})}
    fmts = {**(base.formats if base else {}), **(formats or {})}
    cols = []
    for col in df.columns:
        s = df[col]
        c = str(col)
        if pd.api.types.is_datetime64_any_dtype(s):
            fmt = fmts.get(c) or _default_format(c, s)
            if not temporal_kind(fmt):
                raise InvalidInputError(f"{name}.{c}: a datetime column needs a date or datetime "
                                        f"format (DATE9., DATETIME20.); got {fmt!r}.")
            cols.append(ColumnMeta(c, labels.get(c, ""), "Num", 8, fmt))
        elif pd.api.types.is_numeric_dtype(s):
            fmt = fmts.get(c)
            cols.append(ColumnMeta(c, labels.get(c, ""), "Num", 8, fmt if not temporal_kind(fmt) else None))
        else:
            length = lens.get(c)
            cols.append(ColumnMeta(c, labels.get(c, ""), "Char", int(length) if length else _byte_len(s),
                                   fmts.get(c)))
    return DatasetMeta(name=name, label=label or (base.label if base else ""), columns=tuple(cols))


def check_char_lengths(df: pd.DataFrame, meta: DatasetMeta) -> None:
    """Raise when a value is longer than its variable's declared length."""
    for c in meta.columns:
        if c.type != "Char" or c.length is None or c.name not in df.columns:
            continue
        nbytes = utf8_lengths(df[c.name])
        if (nbytes > c.length).any():
            i = int(np.argmax(nbytes > c.length))
            raise InvalidInputError(
                f"{meta.name}.{c.name}: length {c.length} is shorter than the value in row {i + 1} "
                f"({int(nbytes[i])} bytes: {df[c.name].iloc[i][:40]!r}).")


def check_sas_name(what: str, name: str, *, max_len: int) -> None:
    """SAS v5 names: a letter or underscore, then letters, digits, underscores; at most ``max_len``."""
    if not _SAS_NAME.match(name):
        raise InvalidInputError(f"{what} must be a SAS name (a letter or _, then letters, digits or _); "
                                f"got {name!r}.")
    if len(name) > max_len:
        raise InvalidInputError(f"{what} must have at most {max_len} characters for XPT v5; "
                                f"got {name!r} ({len(name)}).")


def as_dataset(data: pd.DataFrame | Dataset, *, name: str | None = None, label: str | None = None,
               column_labels: Mapping[str, str] | None = None,
               lengths: Mapping[str, int] | None = None,
               formats: Mapping[str, str] | None = None) -> Dataset:
    """A canonical :class:`Dataset` from a frame or a Dataset plus keyword overrides."""
    base = data.meta if isinstance(data, Dataset) else None
    df = data.data if isinstance(data, Dataset) else data
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"data must be a pandas DataFrame or a Dataset; got {type(df).__name__}.")
    ds_name = name or (base.name if base else None)
    if not ds_name:
        raise InvalidInputError("name (the dataset name, e.g. 'ADSL') is required.")
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise InvalidInputError(f"{ds_name}: column {dup[0]!r} appears more than once.")
    all_formats = {**(base.formats if base else {}), **(formats or {})}
    frame = canonical_frame(df, dataset=ds_name, formats=all_formats)
    meta = infer_meta(frame, name=ds_name, label=label if label is not None else "",
                      column_labels=column_labels, lengths=lengths, formats=all_formats, base=base)
    unknown = set(column_labels or {}) | set(lengths or {}) | set(formats or {})
    unknown -= set(frame.columns)
    if unknown:
        raise InvalidInputError(f"{ds_name}: metadata names variables that are not columns: "
                                f"{', '.join(sorted(unknown))}.")
    check_char_lengths(frame, meta)
    return Dataset(frame, meta)


def apply_meta(df: pd.DataFrame, meta: DatasetMeta | None, *, dataset: str) -> pd.DataFrame:
    """Coerce a frame read from an untyped format (CSV) to the types ``meta`` declares."""
    if meta is None:
        return df
    out = df.copy()
    for c in meta.columns:
        if c.name not in out.columns:
            continue
        s = out[c.name]
        if c.kind == "char":
            obj = s.astype(object)
            out[c.name] = obj.where(obj.notna(), "").map(_as_text)
        elif c.kind in ("date", "datetime"):
            try:
                out[c.name] = pd.to_datetime(s.replace("", None), format="ISO8601").astype("datetime64[ns]")
            except (ValueError, TypeError) as exc:
                raise DataValidationError(f"{dataset}.{c.name}: expected ISO 8601 {c.kind}s; "
                                          f"{str(exc).splitlines()[0]}") from None
        else:
            out[c.name] = text_to_float(s, f"{dataset}.{c.name}")
    return out


def text_to_float(s: pd.Series, where: str) -> pd.Series:
    """Numbers from text, "" as NaN, parsed by Python's ``float`` (exact, unlike pandas' fast
    parser, which can be one unit in the last place off)."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    obj = s.astype(object)
    obj = obj.where(obj.notna() & (obj != ""), "nan")
    try:
        return pd.Series(obj.to_numpy().astype(float), index=s.index, name=s.name)
    except (ValueError, TypeError):
        bad = next(v for v in obj if v != "nan" and not is_number(str(v)))
        raise DataValidationError(f"{where}: a Num variable holds the text {bad!r}.") from None


def check_finite_numbers(ds: Dataset) -> Dataset:
    """Raise when a numeric variable holds an infinite value (no CDISC format holds one; a JSON
    ``1e999`` or a CSV ``inf`` would otherwise be read as a number and silently dropped or
    propagated by the statistics); names dataset, variable, row and value."""
    where = f"{ds.path}: " if ds.path is not None else ""
    for col in ds.data.columns:
        s = ds.data[col]
        if s.dtype.kind != "f":
            continue
        bad = np.isinf(s.to_numpy())
        if bad.any():
            i = int(np.argmax(bad))
            raise DataValidationError(
                f"{where}{ds.meta.name}.{col}: row {i + 1} holds {float(s.iloc[i])!r}; expected a finite "
                "number or a missing value.")
    return ds


def _as_text(v: object) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def is_number(text: str) -> bool:
    """Whether ``text`` is a finite number ("nan", "inf" are text here)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
