"""Folders of ADaM datasets: read whatever formats are there, write all formats at once.

:func:`read_adam_dir` finds ``adsl``, ``adeff``, ``adae``, ``adtte``, ``adqs``, ``adadas``,
``adcibc`` ... as XPT, Dataset-JSON, Parquet or CSV(.gz), preferring XPT > Dataset-JSON > Parquet >
CSV when a dataset exists in several; a CSV is typed by ``define.json`` or ``define.xml`` in the
folder, else by the ADaM schemas' variable types. Each dataset is checked against its schema
(:func:`dermsim.cdisc.schemas.check_dataset`) unless ``check=False``.

:func:`write_adam_dir` writes every dataset in every requested format plus ``define.json`` into a
temporary sibling folder and swaps it in at the end: an interrupted or failed run leaves the old
folder (or none), never a half-written one.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from dermsim._atomic import atomic_dir
from dermsim.cdisc.schemas import check_dataset, schema_for, variable_labels, variable_types
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.io.csv import read_csv, write_csv
from dermsim.io.dataset import ColumnMeta, Dataset, DatasetMeta, as_dataset
from dermsim.io.datasetjson import read_dataset_json, write_dataset_json
from dermsim.io.define import read_define, write_define_json
from dermsim.io.parquet import read_parquet, write_parquet
from dermsim.io.xpt import read_xpt, write_xpt

__all__ = ["FORMATS", "cross_dataset_problems", "find_datasets", "read_adam_dir", "read_dataset",
           "write_adam_dir"]

# suffix -> format, in order of preference when a dataset exists in several formats
FORMATS: dict[str, str] = {
    ".xpt": "xpt",
    ".json": "json",
    ".ndjson": "ndjson",
    ".parquet": "parquet",
    ".csv.gz": "csv.gz",
    ".csv": "csv",
}
_WRITERS = {"xpt": (".xpt", write_xpt), "json": (".json", write_dataset_json),
            "ndjson": (".ndjson", write_dataset_json), "parquet": (".parquet", write_parquet),
            "csv": (".csv", write_csv), "csv.gz": (".csv.gz", write_csv)}
_NOT_DATASETS = {"define", "ard"}


def _split(path: Path) -> tuple[str, str] | None:
    lower = path.name.lower()
    for suffix, fmt in FORMATS.items():
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return lower[: -len(suffix)], fmt
    return None


def find_datasets(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The file to read for each dataset in ``folder`` (lower-case name -> path), by preference."""
    root = Path(folder)
    if not root.is_dir():
        raise InvalidInputError(f"ADaM folder must be an existing directory; got {root}.")
    rank = {fmt: i for i, fmt in enumerate(FORMATS.values())}
    best: dict[str, tuple[int, Path]] = {}
    real_root = root.resolve()
    for p in sorted(root.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_symlink() and _split(p) is not None:
            # a link may point anywhere on the disk; only links within the folder are data of it
            target = p.resolve()
            if not target.is_relative_to(real_root):
                raise DataValidationError(f"{p}: a symbolic link to {target}, outside the ADaM folder "
                                          f"{root}; copy the file in instead.")
        if not p.is_file():
            continue
        hit = _split(p)
        if hit is None or hit[0] in _NOT_DATASETS:
            continue
        name, fmt = hit
        if name not in best or rank[fmt] < best[name][0]:
            best[name] = (rank[fmt], p)
    return {k: v[1] for k, v in sorted(best.items())}


def _schema_meta(name: str) -> DatasetMeta | None:
    """Types and labels for a CSV from the ADaM schemas (dataset's own, then any known)."""
    kinds = {**variable_types(), **variable_types(name)}
    labels = {**variable_labels(), **variable_labels(name)}
    fmts = {"date": "DATE9.", "datetime": "DATETIME20."}
    cols = tuple(ColumnMeta(v, labels.get(v, ""), "Char" if k == "char" else "Num", None, fmts.get(k))
                 for v, k in kinds.items())
    sch = schema_for(name)
    return DatasetMeta(name=name.upper(), label=sch.label if sch else "", columns=cols)


def read_dataset(path: str | os.PathLike[str], *, meta: DatasetMeta | None = None) -> Dataset:
    """Read one dataset file of any supported format (by its suffix)."""
    p = Path(path)
    hit = _split(p)
    if hit is None:
        raise InvalidInputError(f"{p}: unknown dataset format; expected one of "
                                f"{', '.join(FORMATS)}.")
    fmt = hit[1]
    if fmt == "xpt":
        return read_xpt(p)
    if fmt in ("json", "ndjson"):
        return read_dataset_json(p)
    if fmt == "parquet":
        return read_parquet(p)
    return read_csv(p, meta=meta, name=hit[0].upper())


def _define_in(root: Path) -> dict[str, DatasetMeta]:
    for fname in ("define.json", "define.xml"):
        if (root / fname).is_file():
            return read_define(root / fname)
    return {}


def read_adam_dir(path: str | os.PathLike[str], datasets: Iterable[str] | None = None, *,
                  check: bool = True) -> dict[str, Dataset]:
    """Read the ADaM datasets in folder ``path`` (all, or those named in ``datasets``).

    Returns lower-case name -> :class:`~dermsim.io.dataset.Dataset` (``.data`` the frame,
    ``.meta`` name, label and variable metadata, ``.path`` and ``.format`` where it came from).
    A named dataset that is absent, an unreadable file or a schema violation raises
    :class:`DataValidationError` with one line naming the file or the dataset, variable and keys.
    """
    root = Path(path)
    found = find_datasets(root)
    if not found:
        raise DataValidationError(f"{root}: no ADaM datasets found (expected files such as adsl.xpt, "
                                  f"adsl.json, adsl.parquet or adsl.csv; suffixes {', '.join(FORMATS)}).")
    wanted = [str(n).lower() for n in datasets] if datasets is not None else list(found)
    absent = [n for n in wanted if n not in found]
    if absent:
        raise DataValidationError(
            f"{root}: dataset {absent[0].upper()} not found (looked for {absent[0]}"
            f"{{{', '.join(FORMATS)}}}); found {', '.join(n.upper() for n in found) or 'none'}.")
    define: dict[str, DatasetMeta] | None = None
    out: dict[str, Dataset] = {}
    for name in wanted:
        p = found[name]
        meta = None
        if _split(p)[1] in ("csv", "csv.gz"):
            if define is None:
                define = _define_in(root)
            meta = define.get(name.upper()) or _schema_meta(name)
        ds = read_dataset(p, meta=meta)
        if check:
            check_dataset(name.upper(), ds.data)
        out[name] = ds
    return out


def cross_dataset_problems(datasets: Mapping[str, Dataset | pd.DataFrame]) -> list[str]:
    """Subjects of the other datasets (ADAE, ADEFF, ...) that ADSL lacks, one message per dataset.

    ADSL is the one record per subject every ADaM dataset refers to (ADaM IG 1.3, section 3.1); a
    subject outside it falls out of every population and every analysis without a word."""
    frames = {k.lower(): (v.data if isinstance(v, Dataset) else v) for k, v in datasets.items()}
    adsl = frames.get("adsl")
    if adsl is None or "USUBJID" not in adsl.columns:
        return []
    known = set(adsl["USUBJID"].astype(str))
    out = []
    for name, df in sorted(frames.items()):
        if name == "adsl" or "USUBJID" not in df.columns:
            continue
        ids = df["USUBJID"].astype(str)
        missing = sorted(set(ids[ids != ""]) - known)
        if missing:
            row = int((ids == missing[0]).to_numpy().argmax()) + 1
            out.append(f"{name.upper()}: {len(missing)} subject(s) not in ADSL, first USUBJID "
                       f"{missing[0]!r} in row {row}")
    return out


def _with_standard_labels(ds: Dataset) -> Dataset:
    """Fill empty labels from the ADaM IG labels of the schemas."""
    labels = {**variable_labels(), **variable_labels(ds.meta.name)}
    sch = schema_for(ds.meta.name)
    cols = tuple(c if c.label else ColumnMeta(c.name, labels.get(c.name, ""), c.type, c.length, c.format)
                 for c in ds.meta.columns)
    label = ds.meta.label or (sch.label if sch else "")
    return Dataset(ds.data, ds.meta.replace(label=label, columns=cols))


def write_adam_dir(datasets: Mapping[str, pd.DataFrame | Dataset], path: str | os.PathLike[str],
                   formats: Sequence[str] | str = ("xpt", "json", "parquet"), *, define: bool = True,
                   check: bool = True, strict: bool = False,
                   created: _dt.datetime | None = None) -> dict[str, dict[str, Path]]:
    """Write each dataset (name -> frame or :class:`Dataset`) in each of ``formats`` (``xpt``,
    ``json``, ``ndjson``, ``parquet``, ``csv``, ``csv.gz``; a list or "xpt,json") as
    ``<name>.<ext>`` and, with ``define=True``, ``define.json``; the folder ``path`` is replaced
    as a whole, atomically.

    Missing labels are filled from the ADaM IG; each dataset is checked against its schema first
    (``strict`` for datasets dermsim derives). Returns name -> format -> final path.
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    fmts = list(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in formats))
    unknown = [f for f in fmts if f not in _WRITERS]
    if unknown or not fmts:
        raise InvalidInputError(f"formats must be among {', '.join(_WRITERS)}; got "
                                f"{', '.join(unknown) if unknown else 'none'}.")
    if not datasets:
        raise InvalidInputError("datasets must name at least one dataset; got none.")
    ready: dict[str, Dataset] = {}
    for key, data in datasets.items():
        name = (data.meta.name if isinstance(data, Dataset) else str(key)).upper()
        ds = _with_standard_labels(as_dataset(data, name=name))
        if check:
            check_dataset(name, ds.data, strict=strict)
        ready[name.lower()] = ds
    target = Path(path)
    out: dict[str, dict[str, Path]] = {}
    with atomic_dir(target) as tmp:
        for lname, ds in ready.items():
            sch = schema_for(ds.meta.name)
            out[lname] = {}
            for fmt in fmts:
                suffix, writer = _WRITERS[fmt]
                fpath = tmp / f"{lname}{suffix}"
                if fmt in ("json", "ndjson"):
                    keys = [k for k in (sch.keys if sch else ()) if k in ds.data.columns]
                    writer(ds, fpath, keys=keys, created=created)
                elif fmt == "xpt":
                    writer(ds, fpath, timestamp=created)
                else:
                    writer(ds, fpath)
                out[lname][fmt] = target / fpath.name
        if define:
            keys = {ds.meta.name: [k for k in (schema_for(ds.meta.name).keys if schema_for(ds.meta.name)
                                               else ()) if k in ds.data.columns] for ds in ready.values()}
            structures = {ds.meta.name: schema_for(ds.meta.name).structure for ds in ready.values()
                          if schema_for(ds.meta.name)}
            write_define_json({ds.meta.name: ds for ds in ready.values()}, tmp / "define.json",
                              keys=keys, structures=structures)
    return out
