"""Dataset and variable metadata files: dermsim's ``define.json`` and sponsors' Define-XML 2.x.

``define.json`` holds, per dataset, its name, label, structure, keys and record count, and per
variable its name, label, SAS type, length, display format and order. It is what a reader needs
to type an untyped file (CSV) and what a reviewer reads first. Define-XML (``define.xml``, CDISC
ODM 1.3 with the def: 2.x extensions) is read for the same metadata: ``ItemGroupDef`` gives the
dataset, its ``ItemRef``s the variables' order and keys, ``ItemDef`` the type (a numeric
``DataType`` with a ``DATE``/``DATETIME`` display format is a SAS date), length and label.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError
from dermsim.io.dataset import ColumnMeta, Dataset, DatasetMeta, as_dataset

__all__ = ["build_define", "read_define", "write_define_json"]

DEFINE_JSON_VERSION = "1.0"
_NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def2": "http://www.cdisc.org/ns/def/v2.0",
       "def21": "http://www.cdisc.org/ns/def/v2.1", "xml": "http://www.w3.org/XML/1998/namespace"}


def build_define(datasets: Mapping[str, pd.DataFrame | Dataset], *, standard: str = "ADaM",
                 keys: Mapping[str, list[str]] | None = None,
                 structures: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``define.json`` document for ``datasets`` (frames or :class:`Dataset`) as a dict."""
    from dermsim import __version__

    out = []
    for key, data in datasets.items():
        ds = as_dataset(data, name=(data.meta.name if isinstance(data, Dataset) else str(key)).upper())
        name = ds.meta.name
        kseq = list((keys or {}).get(name, (keys or {}).get(str(key), [])))
        out.append({
            "name": name,
            "label": ds.meta.label,
            "structure": (structures or {}).get(name, ""),
            "records": len(ds.data),
            "keys": kseq,
            "variables": [{**c.to_dict(), "order": i + 1,
                           "kind": c.kind} for i, c in enumerate(ds.meta.columns)],
        })
    return {"defineVersion": DEFINE_JSON_VERSION, "standard": standard,
            "sourceSystem": {"name": "dermsim", "version": str(__version__)}, "datasets": out}


def write_define_json(datasets: Mapping[str, pd.DataFrame | Dataset], path: str | os.PathLike[str], *,
                      standard: str = "ADaM", keys: Mapping[str, list[str]] | None = None,
                      structures: Mapping[str, str] | None = None) -> Path:
    """Write dataset and variable metadata (name, label, type, length, format, order; dataset
    keys, structure and record count) as JSON at ``path``, atomically; return the path."""
    doc = build_define(datasets, standard=standard, keys=keys, structures=structures)
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def read_define(path: str | os.PathLike[str]) -> dict[str, DatasetMeta]:
    """Dataset metadata by upper-case dataset name from ``define.json`` or ``define.xml``."""
    p = Path(path)
    if not p.is_file():
        raise DataValidationError(f"{p}: no such define file.")
    if p.suffix.lower() == ".xml":
        return _read_define_xml(p)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        return {d["name"].upper(): DatasetMeta(
            name=d["name"].upper(), label=d.get("label", ""),
            columns=tuple(ColumnMeta.from_dict(v) for v in sorted(d["variables"],
                                                                   key=lambda v: v.get("order", 0))))
            for d in doc["datasets"]}
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{p}: not a dermsim define.json ({type(exc).__name__}: {exc}).") from None


def _text(el: ET.Element | None) -> str:
    if el is None:
        return ""
    tt = el.find("odm:TranslatedText", _NS)
    return (tt.text or "").strip() if tt is not None else ""


def _attr(el: ET.Element, name: str) -> str | None:
    for ns in ("def2", "def21"):
        v = el.get(f"{{{_NS[ns]}}}{name}")
        if v is not None:
            return v
    return None


def _read_define_xml(p: Path) -> dict[str, DatasetMeta]:
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as exc:
        raise DataValidationError(f"{p}: not well-formed XML ({exc}).") from None
    mdv = root.find("odm:Study/odm:MetaDataVersion", _NS)
    if mdv is None:
        raise DataValidationError(f"{p}: no ODM Study/MetaDataVersion; not a Define-XML file.")
    items: dict[str, ColumnMeta] = {}
    for it in mdv.findall("odm:ItemDef", _NS):
        dtype = it.get("DataType", "text")
        fmt = _attr(it, "DisplayFormat")
        numeric = dtype in ("integer", "float", "double", "decimal")
        length = it.get("Length")
        items[it.get("OID", "")] = ColumnMeta(
            name=it.get("Name", ""), label=_text(it.find("odm:Description", _NS)),
            type="Num" if numeric else "Char",
            length=8 if numeric else (int(length) if length and length.isdigit() else None),
            format=fmt if numeric else None)
    out: dict[str, DatasetMeta] = {}
    for ig in mdv.findall("odm:ItemGroupDef", _NS):
        name = (ig.get("Name") or "").upper()
        refs = sorted(ig.findall("odm:ItemRef", _NS), key=lambda r: int(r.get("OrderNumber", "0") or 0))
        cols = tuple(items[r.get("ItemOID", "")] for r in refs if r.get("ItemOID", "") in items)
        label = _text(ig.find("odm:Description", _NS)) or (ig.get("Purpose") or "")
        out[name] = DatasetMeta(name=name, label=label if label != "Analysis" else "", columns=cols)
    return out
