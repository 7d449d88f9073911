"""SAS transport (XPT) version 5, the format FDA and PMDA take for submission datasets.

Written with ``pyreadstat`` (ReadStat) with ``file_format_version=5``; read with ``pyreadstat``
(both v5 and v8 files). The v5 limits are enforced before anything is written, each with a
message that names the dataset and variable: dataset and variable names at most 8 characters
(SAS names), labels at most 40, character lengths at most 200 bytes, numbers within the IBM
floating-point range (about 5.4e-79 to 7.2e75 in magnitude) and finite.

Dates and datetimes are written as SAS numbers (days / seconds since 1960-01-01) with the
formats ``DATE9.`` / ``DATETIME20.`` and read back as ``datetime64``. Numbers are stored as
8-byte IBM floats, which hold every IEEE double in range exactly; SAS has no integer type, so
integers read back as ``float64``. Character values are blank-padded, so trailing blanks are not
kept (as in SAS). A declared length longer than the longest value is kept by padding one value
with blanks, since ReadStat sizes a character variable by its longest value.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.io.dataset import (
    SAS_EPOCH,
    ColumnMeta,
    Dataset,
    DatasetMeta,
    as_dataset,
    check_sas_name,
    temporal_kind,
)

__all__ = ["XPT_MAX_CHAR_LENGTH", "XPT_MAX_LABEL", "XPT_MAX_NAME", "read_xpt", "write_xpt"]

XPT_MAX_NAME = 8
XPT_MAX_LABEL = 40
XPT_MAX_CHAR_LENGTH = 200
# IBM System/360 double: 16**-65 is the smallest normalised magnitude, (1 - 16**-14) * 16**63 the largest.
_IBM_MIN = 16.0 ** -65
_IBM_MAX = (1 - 16.0 ** -14) * 16.0 ** 63
_NS_PER_DAY = 86_400 * 10**9


def _label_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _check_v5(ds: Dataset) -> None:
    meta = ds.meta
    check_sas_name("dataset name", meta.name, max_len=XPT_MAX_NAME)
    if _label_bytes(meta.label) > XPT_MAX_LABEL:
        raise InvalidInputError(f"{meta.name}: the dataset label must have at most {XPT_MAX_LABEL} "
                                f"characters for XPT v5; got {len(meta.label)} ({meta.label!r}).")
    for c in meta.columns:
        check_sas_name(f"{meta.name}: variable name", c.name, max_len=XPT_MAX_NAME)
        if _label_bytes(c.label) > XPT_MAX_LABEL:
            raise InvalidInputError(f"{meta.name}.{c.name}: the label must have at most {XPT_MAX_LABEL} "
                                    f"characters for XPT v5; got {len(c.label)} ({c.label!r}).")
        if c.type == "Char" and (c.length or 1) > XPT_MAX_CHAR_LENGTH:
            raise InvalidInputError(f"{meta.name}.{c.name}: character length must be at most "
                                    f"{XPT_MAX_CHAR_LENGTH} for XPT v5; got {c.length}.")
        if c.kind == "num" and len(ds.data):
            v = ds.data[c.name].to_numpy(dtype=float)
            bad = np.isinf(v) | ((v != 0) & ~np.isnan(v) & ((np.abs(v) < _IBM_MIN) | (np.abs(v) > _IBM_MAX)))
            if bad.any():
                i = int(np.argmax(bad))
                raise InvalidInputError(
                    f"{meta.name}.{c.name}: value {v[i]!r} in row {i + 1} cannot be stored in XPT (numbers "
                    f"must be finite with magnitude 0 or within [{_IBM_MIN:.4g}, {_IBM_MAX:.4g}]).")


def _check_last_record(ds: Dataset) -> None:
    # v5 stores no record count: readers take trailing blank bytes for padding, so a last record
    # that is all blank (only Char variables, all "") would silently disappear.
    if len(ds.data) and all(c.type == "Char" for c in ds.meta.columns):
        last = ds.data.iloc[-1]
        if all(str(v).strip() == "" for v in last):
            raise InvalidInputError(
                f"{ds.meta.name}: the last record has only blank character values, which XPT v5 cannot "
                "tell from padding; drop it or add a non-blank variable (e.g. a sequence number).")


def _to_sas_numbers(s: pd.Series, kind: str) -> pd.Series:
    ns = s.to_numpy(dtype="datetime64[ns]")
    delta = (ns - SAS_EPOCH).astype("int64").astype(float)
    delta[np.isnat(ns)] = np.nan
    if kind == "date":
        days = delta / _NS_PER_DAY
        frac = days[~np.isnan(days)] % 1
        if frac.size and (frac != 0).any():
            raise InvalidInputError(f"{s.name}: a date variable (format DATE9.) holds times of day; "
                                    "give it a DATETIME20. format or normalise it to dates.")
        return pd.Series(days, name=s.name)
    return pd.Series(delta / 1e9, name=s.name)


def _from_sas_numbers(values: pd.Series, kind: str) -> pd.Series:
    v = values.to_numpy(dtype=float)
    scale = _NS_PER_DAY if kind == "date" else 10**9
    missing = np.isnan(v)
    ns = np.zeros(v.shape, dtype="int64")
    ns[~missing] = np.round(v[~missing] * scale).astype("int64")
    out = SAS_EPOCH + ns.astype("timedelta64[ns]")
    out[missing] = np.datetime64("NaT")
    return pd.Series(out, name=values.name, dtype="datetime64[ns]")


def write_xpt(data: pd.DataFrame | Dataset, path: str | os.PathLike[str], *, name: str | None = None,
              label: str | None = None, column_labels: Mapping[str, str] | None = None,
              lengths: Mapping[str, int] | None = None,
              formats: Mapping[str, str] | None = None,
              timestamp: _dt.datetime | None = None) -> Path:
    """Write one dataset as SAS transport v5 at ``path`` (atomically); return the path.

    ``name`` is the dataset name (e.g. ``"ADSL"``), ``label`` the dataset label,
    ``column_labels`` the variable labels, ``lengths`` the character lengths in bytes (default:
    the longest value), ``formats`` SAS display formats (dates default to ``DATE9.`` and
    datetimes to ``DATETIME20.``). A :class:`Dataset` brings its own metadata; keywords override.
    ``timestamp`` is the created/modified time in the headers (default: ``SOURCE_DATE_EPOCH``
    when set, else now), so that a rerun can give the same bytes.
    """
    ds = as_dataset(data, name=name, label=label, column_labels=column_labels, lengths=lengths,
                    formats=formats)
    ds = Dataset(ds.data, ds.meta.replace(name=ds.meta.name.upper()))
    _check_v5(ds)
    _check_last_record(ds)
    frame = ds.data.copy()
    fmts: dict[str, str] = {}
    for c in ds.meta.columns:
        if c.kind in ("date", "datetime"):
            frame[c.name] = _to_sas_numbers(frame[c.name], c.kind)
        elif c.type == "Num":
            frame[c.name] = frame[c.name].astype(float)
        elif c.length and len(frame) and _label_bytes(frame[c.name].iloc[0]) < c.length:
            # ReadStat sizes a variable by its longest value; trailing blanks are not data in SAS.
            first = frame[c.name].iloc[0]
            frame.loc[0, c.name] = first + " " * (c.length - _label_bytes(first))
        if c.format:
            fmts[c.name] = c.format
    labels = {c.name: (c.label or None) for c in ds.meta.columns}
    target = Path(path)
    with atomic_path(target) as tmp:
        pyreadstat.write_xport(frame, str(tmp), file_label=ds.meta.label, column_labels=labels,
                               table_name=ds.meta.name, file_format_version=5,
                               variable_format=fmts or None)
        _stamp_headers(tmp, timestamp)
    return target


_STAMP = re.compile(rb"^\d{2}[A-Z]{3}\d{2}:\d{2}:\d{2}:\d{2}$")
# Byte ranges of the four 16-character created/modified stamps in a v5 library + member header.
_STAMP_AT = (144, 160, 464, 480)


def _stamp_headers(path: Path, timestamp: _dt.datetime | None) -> None:
    """Overwrite the header time stamps (ReadStat writes the clock time there)."""
    if timestamp is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if not epoch:
            return
        timestamp = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC)
    stamp = timestamp.strftime("%d%b%y:%H:%M:%S").upper().encode("ascii")
    with open(path, "r+b") as fh:
        head = fh.read(_STAMP_AT[-1] + 16)
        for at in _STAMP_AT:
            if not _STAMP.match(head[at:at + 16]):  # pragma: no cover - a ReadStat layout change
                raise DataValidationError(f"{path}: unexpected XPT header layout at byte {at}.")
        for at in _STAMP_AT:
            fh.seek(at)
            fh.write(stamp)


_REC = 80
_HDR = b"HEADER RECORD*******"


def _check_transport_structure(p: Path, n_rows: int) -> None:
    """Refuse a damaged transport file that ReadStat would read in part without complaint.

    XPT is a sequence of 80-byte records; v5 stores no record count, so ReadStat stops at the end of
    the file and takes whatever whole observations it found. A file cut short (a copy or download
    that stopped) is caught here: its size must be whole records, the bytes after the last whole
    observation may only be blank padding, and ReadStat must have read every observation present.
    (A cut exactly at an observation and a record boundary at once cannot be told from a shorter
    dataset in v5; v8 files carry the count.)"""
    size = p.stat().st_size
    if size % _REC:
        raise DataValidationError(
            f"{p}: truncated or damaged SAS transport file: {size} bytes is not a whole number of "
            f"{_REC}-byte records (the file ends {size % _REC} bytes into a record).")
    with open(p, "rb") as fh:
        data = fh.read()
    if not data.startswith(_HDR + b"LIBRARY HEADER RECORD"):
        return  # v8 (LIBV8) files: ReadStat checks the stored observation count itself
    member = data.find(_HDR + b"MEMBER  HEADER RECORD")
    if member < 0 or member % _REC:
        raise DataValidationError(f"{p}: damaged SAS transport file: no member header record.")
    try:
        namestr_len = int(data[member + 74:member + 78])
        namestr_hdr = data.index(_HDR + b"NAMESTR HEADER RECORD", member)
        nvar = int(data[namestr_hdr + 54:namestr_hdr + 58])
    except ValueError:
        raise DataValidationError(f"{p}: damaged SAS transport file: unreadable member header.") from None
    start = namestr_hdr + _REC
    obs_len = sum(int.from_bytes(data[start + i * namestr_len + 4:start + i * namestr_len + 6], "big")
                  for i in range(nvar))
    obs_hdr = data.find(_HDR + b"OBS     HEADER RECORD", start + nvar * namestr_len)
    if obs_hdr < 0 or obs_hdr % _REC:
        raise DataValidationError(f"{p}: truncated SAS transport file: the observation header is missing.")
    begin = obs_hdr + _REC
    end = data.find(_HDR + b"MEMBER  HEADER RECORD", begin)
    end = size if end < 0 else end
    if obs_len <= 0:
        return
    body = data[begin:end]
    whole = len(body) // obs_len
    rest = body[whole * obs_len:]
    if rest.strip(b" "):
        raise DataValidationError(
            f"{p}: truncated SAS transport file: it ends inside observation {whole + 1} "
            f"({len(rest)} of {obs_len} bytes present).")
    tail = body[n_rows * obs_len:whole * obs_len]
    if tail.strip(b" "):
        raise DataValidationError(
            f"{p}: damaged SAS transport file: {whole} observations present but {n_rows} could be read.")


def read_xpt(path: str | os.PathLike[str]) -> Dataset:
    """Read a SAS transport file (v5 or v8): the frame in the canonical form of
    :mod:`dermsim.io.dataset` and its metadata (name, label, variable labels, types, lengths,
    formats). Dates and datetimes (by their SAS format) become ``datetime64``."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: no such XPT file.")
    try:
        df, m = pyreadstat.read_xport(str(p), disable_datetime_conversion=True)
    except Exception as exc:  # ReadStat raises its own error types for every kind of damage
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(f"{p}: not a readable SAS transport (XPT) file ({reason}).") from None
    _check_transport_structure(p, len(df))
    name = (m.table_name or p.stem.split(".")[0]).upper()
    formats = m.original_variable_types or {}
    widths = getattr(m, "variable_storage_width", None) or {}
    vtypes = m.readstat_variable_types or {}
    cols = []
    for col in df.columns:
        fmt = formats.get(col)
        fmt = fmt if not fmt or "." in fmt else f"{fmt}."  # ReadStat drops the trailing dot
        is_char = vtypes.get(col) == "string"
        if is_char:
            df[col] = df[col].astype(object).where(df[col].notna(), "")
        kind = None if is_char else temporal_kind(fmt)
        if kind:
            df[col] = _from_sas_numbers(df[col], kind)
        elif not is_char:
            df[col] = df[col].astype("float64")
        label = (m.column_names_to_labels or {}).get(col) or ""
        cols.append(ColumnMeta(col, label, "Char" if is_char else "Num",
                               int(widths[col]) if col in widths else None, fmt or None))
    meta = DatasetMeta(name=name, label=m.file_label or "", columns=tuple(cols))
    return Dataset(df.reset_index(drop=True), meta, path=p, format="xpt")
