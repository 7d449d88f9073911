"""Readers and writers: ADaM/SDTM datasets (XPT v5, Dataset-JSON v1.1, Parquet, CSV(.gz)),
define metadata, and analysis results data (:mod:`dermsim.io.ard`).

Every writer is atomic (temporary sibling, then rename). Every reader returns a
:class:`~dermsim.io.dataset.Dataset` (``.data`` frame in one canonical form, ``.meta`` names,
labels, types, lengths, formats; unpacks as ``df, meta``) and raises
:class:`~dermsim.errors.DataValidationError` with one line for a damaged or foreign file.
"""

from __future__ import annotations

from dermsim.io.adam import FORMATS, find_datasets, read_adam_dir, read_dataset, write_adam_dir
from dermsim.io.csv import read_csv, write_csv
from dermsim.io.dataset import ColumnMeta, Dataset, DatasetMeta, as_dataset
from dermsim.io.datasetjson import read_dataset_json, validate_dataset_json, write_dataset_json
from dermsim.io.define import read_define, write_define_json
from dermsim.io.parquet import read_parquet, write_parquet
from dermsim.io.xpt import read_xpt, write_xpt

__all__ = [
    "FORMATS",
    "ColumnMeta",
    "Dataset",
    "DatasetMeta",
    "as_dataset",
    "find_datasets",
    "read_adam_dir",
    "read_csv",
    "read_dataset",
    "read_dataset_json",
    "read_define",
    "read_parquet",
    "read_xpt",
    "validate_dataset_json",
    "write_adam_dir",
    "write_csv",
    "write_dataset_json",
    "write_define_json",
    "write_parquet",
    "write_xpt",
]
