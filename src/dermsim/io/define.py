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

__all__ = ["build_define", "build_define_xml", "read_define", "validate_define_xml", "write_define_json",
           "write_define_xml"]

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


# ---- Define-XML 2.1 ----------------------------------------------------------------------------
# Written with lxml (no maintained Python library writes Define-XML 2.1: odmlib models ODM but
# ships no 2.1 writer API we could rely on) and validated against the CDISC Define-XML 2.1 XSD
# bundled in dermsim/io/schemas/define-xml-2.1 (see that package's docstring).

_ODM = "http://www.cdisc.org/ns/odm/v1.3"
_DEF = "http://www.cdisc.org/ns/def/v2.1"
_XLINK = "http://www.w3.org/1999/xlink"
_XML = "http://www.w3.org/XML/1998/namespace"
# def:Class of each ADaM structure / SDTM domain (Define-XML 2.1 controlled terms)
_CLASSES = {
    "ADSL": "SUBJECT LEVEL ANALYSIS DATASET", "BDS": "BASIC DATA STRUCTURE",
    "OCCDS": "OCCURRENCE DATA STRUCTURE", "ADAM OTHER": "ADAM OTHER",
    "DM": "SPECIAL PURPOSE", "EX": "INTERVENTIONS", "AE": "EVENTS", "DS": "EVENTS", "QS": "FINDINGS",
}
_STANDARDS = {"ADaM": ("ADaMIG", "1.3"), "SDTM": ("SDTMIG", "3.4")}


def _define_schema_path() -> Path:
    from importlib import resources

    root = resources.files("dermsim.io.schemas").joinpath("define-xml-2.1")
    return Path(str(root)) / "cdisc-define-2.1" / "define2-1-0.xsd"


def _char_length(values: pd.Series) -> int:
    enc = values.astype(str).map(lambda s: len(s.encode("utf-8")))
    return max(int(enc.max()) if len(enc) else 1, 1)


def build_define_xml(datasets: Mapping[str, pd.DataFrame | Dataset], *, standard: str, study: str,
                     keys: Mapping[str, list[str]] | None = None,
                     structures: Mapping[str, str] | None = None, created: str = "2024-01-01T00:00:00",
                     description: str = "", file_ext: str = "xpt") -> bytes:
    """Define-XML 2.1 (ODM 1.3.2) of ``datasets``: one ``ItemGroupDef`` per dataset (label,
    class, structure, keys, a ``def:leaf`` to ``<name>.<file_ext>``) and one ``ItemDef`` per
    variable (data type, length, label, display format of dates). ``standard`` is "ADaM" or
    "SDTM"; ``created`` is the creation stamp (fixed for reproducible bytes)."""
    from lxml import etree

    from dermsim import __version__

    if standard not in _STANDARDS:
        raise DataValidationError(f"standard must be one of {', '.join(_STANDARDS)}; got {standard!r}.")
    nsmap = {None: _ODM, "def": _DEF, "xlink": _XLINK}

    def el(parent: Any, tag: str, ns: str = _ODM, **attrs: str) -> Any:
        return etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items()})

    def text(parent: Any, tag: str, value: str) -> None:
        tt = el(el(parent, tag), "TranslatedText")
        tt.set(f"{{{_XML}}}lang", "en")
        tt.text = value

    sid = "".join(ch if ch.isalnum() else "." for ch in study) or "STUDY"
    root = etree.Element(f"{{{_ODM}}}ODM", nsmap=nsmap)
    for k, v in {"FileType": "Snapshot", "FileOID": f"DEF.{sid}.{standard}", "ODMVersion": "1.3.2",
                 "CreationDateTime": created, "Originator": "dermsim", "SourceSystem": "dermsim",
                 "SourceSystemVersion": str(__version__)}.items():
        root.set(k, v)
    root.set(f"{{{_DEF}}}Context", "Other")
    st = el(root, "Study", OID=f"STDY.{sid}")
    gv = el(st, "GlobalVariables")
    for tag, val in (("StudyName", study), ("StudyDescription", description or study),
                     ("ProtocolName", study)):
        el(gv, tag).text = val
    mdv = el(st, "MetaDataVersion", OID=f"MDV.{sid}.{standard}", Name=f"{study} {standard}",
             Description=description or f"{standard} datasets written by dermsim")
    mdv.set(f"{{{_DEF}}}DefineVersion", "2.1.0")
    std_name, std_version = _STANDARDS[standard]
    std_oid = f"STD.{std_name}"
    stds = el(mdv, "Standards", _DEF)
    el(stds, "Standard", _DEF, OID=std_oid, Name=std_name, Type="IG", Version=std_version, Status="Final")
    groups, items = [], []
    for key, data in datasets.items():
        ds = as_dataset(data, name=(data.meta.name if isinstance(data, Dataset) else str(key)).upper())
        name = ds.meta.name
        kseq = list((keys or {}).get(name, []))
        struct = (structures or {}).get(name, "")
        groups.append((name, ds, kseq, struct))
    for name, ds, kseq, struct in groups:
        ig = el(mdv, "ItemGroupDef", OID=f"IG.{name}", Name=name, SASDatasetName=name[:8],
                Repeating="No" if struct == "ADSL" or name == "DM" else "Yes", IsReferenceData="No",
                Purpose="Analysis" if standard == "ADaM" else "Tabulation")
        if name != "DM" and standard == "SDTM":
            ig.set("Domain", name)
        ig.set(f"{{{_DEF}}}Structure", struct or ("One record per subject" if name == "DM" else "Other"))
        ig.set(f"{{{_DEF}}}StandardOID", std_oid)
        ig.set(f"{{{_DEF}}}ArchiveLocationID", f"LF.{name}")
        text(ig, "Description", ds.meta.label or name)
        for i, c in enumerate(ds.meta.columns, start=1):
            ref = el(ig, "ItemRef", ItemOID=f"IT.{name}.{c.name}", OrderNumber=str(i),
                     Mandatory="Yes" if c.name in kseq else "No")
            if c.name in kseq:
                ref.set("KeySequence", str(kseq.index(c.name) + 1))
        cls = _CLASSES.get(name) or _CLASSES.get(struct.upper(), "ADAM OTHER" if standard == "ADaM" else "")
        if cls:
            el(ig, "Class", _DEF, Name=cls)
        leaf = el(ig, "leaf", _DEF, ID=f"LF.{name}")
        leaf.set(f"{{{_XLINK}}}href", f"{name.lower()}.{file_ext}")
        el(leaf, "title", _DEF).text = f"{name.lower()}.{file_ext}"
        items.append((name, ds))
    for name, ds in items:
        for c in ds.meta.columns:
            kind = c.kind
            if kind == "char":
                dtype, length = "text", c.length or _char_length(ds.data[c.name])
            elif kind in ("date", "datetime"):
                dtype, length = "integer", 8
            else:
                vals = pd.to_numeric(ds.data[c.name], errors="coerce").dropna()
                whole = bool(len(vals)) and bool((vals == vals.round()).all())
                dtype, length = ("integer" if whole else "float"), 8
            it = el(mdv, "ItemDef", OID=f"IT.{name}.{c.name}", Name=c.name, DataType=dtype,
                    Length=str(length), SASFieldName=c.name[:8])
            if dtype == "float":
                del it.attrib["Length"]
            if c.format and kind != "char":
                it.set(f"{{{_DEF}}}DisplayFormat", c.format)
            text(it, "Description", c.label or c.name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def validate_define_xml(doc: bytes | str | os.PathLike[str]) -> None:
    """Raise :class:`DataValidationError` (first schema error, with its line) unless ``doc`` (the
    bytes or a path) is valid against the CDISC Define-XML 2.1 XSD."""
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(_define_schema_path())))
    tree = etree.parse(str(doc)) if not isinstance(doc, bytes) else etree.fromstring(doc).getroottree()
    if not schema.validate(tree):
        err = schema.error_log[0]
        raise DataValidationError(f"define.xml line {err.line}: {err.message}")


def write_define_xml(datasets: Mapping[str, pd.DataFrame | Dataset], path: str | os.PathLike[str],
                     **kwargs: Any) -> Path:
    """Write :func:`build_define_xml` to ``path`` (validated, atomically); return the path."""
    doc = build_define_xml(datasets, **kwargs)
    validate_define_xml(doc)
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_bytes(doc)
    return target
