"""Parquet datasets (Apache Arrow), lossless for every type pandas holds.

The CDISC metadata travels inside the file: the dataset name, label and each variable's label,
type, length and format as JSON under the schema metadata key ``dermsim.dataset``, and each
variable's label also as Arrow field metadata (``label``) for other readers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError
from dermsim.io.dataset import (
    Dataset,
    DatasetMeta,
    as_dataset,
    canonical_frame,
    check_finite_numbers,
    infer_meta,
)

__all__ = ["read_parquet", "write_parquet"]

META_KEY = b"dermsim.dataset"


def write_parquet(data: pd.DataFrame | Dataset, path: str | os.PathLike[str], *, name: str | None = None,
                  label: str | None = None, column_labels: Mapping[str, str] | None = None,
                  lengths: Mapping[str, int] | None = None,
                  formats: Mapping[str, str] | None = None) -> Path:
    """Write one dataset (a frame or :class:`Dataset`) as Parquet, atomically; return the path."""
    target = Path(path)
    ds = as_dataset(data, name=name or target.name.split(".")[0].upper(), label=label,
                    column_labels=column_labels, lengths=lengths, formats=formats)
    table = pa.Table.from_pandas(ds.data, preserve_index=False)
    fields = [f.with_metadata({b"label": (ds.meta.column(f.name).label or "").encode("utf-8")})
              for f in table.schema]
    schema = pa.schema(fields, metadata={**(table.schema.metadata or {}),
                                         META_KEY: json.dumps(ds.meta.to_dict()).encode("utf-8")})
    with atomic_path(target) as tmp:
        pq.write_table(table.cast(schema), tmp)
    return target


def read_parquet(path: str | os.PathLike[str]) -> Dataset:
    """Read a Parquet dataset with its metadata (from :func:`write_parquet`, or inferred)."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: no such Parquet file.")
    try:
        table = pq.read_table(p)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataValidationError(f"{p}: not a readable Parquet file ({reason}).") from None
    stored = (table.schema.metadata or {}).get(META_KEY)
    try:
        base = DatasetMeta.from_dict(json.loads(stored)) if stored else None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataValidationError(f"{p}: damaged dermsim metadata in the Parquet file ({exc}).") from None
    name = base.name if base else p.name.split(".")[0].upper()
    frame = canonical_frame(table.to_pandas(), dataset=name, formats=base.formats if base else None)
    if base is None:
        labels = {f.name: (f.metadata or {}).get(b"label", b"").decode("utf-8") for f in table.schema}
        meta = infer_meta(frame, name=name, column_labels={k: v for k, v in labels.items() if v})
    else:
        meta = infer_meta(frame, name=name, base=base)
    return check_finite_numbers(Dataset(frame, meta, path=p, format="parquet"))
