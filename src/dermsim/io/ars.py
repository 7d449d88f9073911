"""The ARD as a CDISC Analysis Results Standard (ARS v1) reporting event: ``ard_ars.json``.

One ``ReportingEvent`` (the plan) holds:

* ``analysisSets``: one per distinct population filter of the ARD (the filter text as its name);
* ``analysisGroupings``: data-driven grouping factors for the columns that split results: the
  treatment variable of each analysis, the comparator (the reference level of a comparison),
  the analysis visit, the time point, the outer term (``AEBODSYS`` for PTs), the analysed variable
  and its level (category, term, model term);
* ``methods``: one per plan method, its ``operations`` one per statistic label the method
  produced (``resultPattern`` from the ARD's ``fmt``);
* ``analyses``: one per analysis id, with its dataset, variable, method, analysis set, the
  groupings it uses and every ARD row as an ``OperationResult`` (raw value at full precision,
  formatted value through :mod:`dermsim.report.format`, and its ``resultGroups``);
* ``mainListOfContents``: the analyses in ARD order.

No library writes ARS from Python (the CDISC tooling is SAS and R), so the mapping is written
here; :func:`validate_ars` checks the result against the published ARS JSON schema bundled in
:mod:`dermsim.io.schemas` (``jsonschema``, draft-07).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.analysis.ard import validate_ard
from dermsim.errors import DataValidationError

__all__ = ["ard_to_ars", "ars_schema", "validate_ars", "write_ars"]

# (ARD column, grouping id, name); the treatment grouping is per analysis (its group variable)
_GROUPINGS = (
    ("comparator", "GRP_COMPARATOR", "Reference group of a comparison"),
    ("visit", "GRP_AVISIT", "Analysis visit"),
    ("timepoint", "GRP_TIME", "Time point (time-to-event analyses)"),
    ("group2_level", "GRP_OUTER", "Outer term (system organ class of a preferred term)"),
    ("variable", "GRP_VARIABLE", "Analysed variable"),
    ("variable_level", "GRP_LEVEL", "Category, term or model term of the analysed variable"),
)
_PATTERN = {"0": "XX", "1": "XX.X", "2": "XX.XX", "3": "XX.XXX", "4": "XX.XXXX", "p": "X.XXXX"}


@functools.cache
def ars_schema() -> dict[str, Any]:
    """The CDISC ARS v1 JSON schema (bundled; see :mod:`dermsim.io.schemas`)."""
    text = resources.files("dermsim.io.schemas").joinpath("ars_ldm.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _formatted(value: float, fmt: str) -> str:
    from dermsim.report.format import fmt_num, fmt_p

    if not math.isfinite(value):
        return "NE"
    if fmt == "p":
        return fmt_p(value, 4)
    return fmt_num(value, int(fmt)) if fmt.isdigit() else repr(value)


def ard_to_ars(
    ard: pd.DataFrame,
    *,
    name: str,
    titles: Mapping[str, str] | None = None,
    description: str = "",
    version: int = 1,
) -> dict[str, Any]:
    """The ARS reporting event (a JSON-ready dict) of ``ard``."""
    validate_ard(ard)
    titles = titles or {}
    pops = list(dict.fromkeys(ard["population"]))
    set_ids = {p: f"AS{i + 1:02d}" for i, p in enumerate(pops)}
    analysis_sets = [
        {"id": set_ids[p], "name": p or "All subjects", "level": 1, "order": i + 1}
        for i, p in enumerate(pops)
    ]
    groups = list(dict.fromkeys(g for g in ard["group"] if g))
    groupings = [
        {"id": f"GRP_TRT_{_id(g)}", "name": g, "groupingVariable": g, "dataDriven": True} for g in groups
    ]
    groupings += [{"id": gid, "name": label, "dataDriven": True} for _col, gid, label in _GROUPINGS]

    methods: list[dict[str, Any]] = []
    op_ids: dict[tuple[str, str, str], str] = {}
    for method, part in ard.groupby("method", sort=False):
        ops = []
        for k, (stat, label, fmt) in enumerate(
            dict.fromkeys(zip(part["stat_name"], part["stat_label"], part["fmt"], strict=True))
        ):
            oid = f"MTH_{_id(str(method))}_{k + 1:02d}"
            op_ids[(str(method), stat, label)] = oid
            op = {"id": oid, "name": stat, "label": label, "order": k + 1}
            if fmt in _PATTERN:
                op["resultPattern"] = _PATTERN[fmt]
            ops.append(op)
        methods.append({"id": f"MTH_{_id(str(method))}", "name": str(method), "operations": ops})

    analyses = []
    contents = []
    for order, (aid, part) in enumerate(ard.groupby("analysis_id", sort=False), start=1):
        method = str(part["method"].iloc[0])
        group = str(part["group"].iloc[0])
        used: list[tuple[str, str]] = []  # (ARD column, grouping id)
        if group:
            used.append(("group_level", f"GRP_TRT_{_id(group)}"))
        used += [(col, gid) for col, gid, _ in _GROUPINGS if (part[col] != "").any()]
        results = []
        for row in part.itertuples(index=False):
            value = float(row.stat_value)
            res: dict[str, Any] = {
                "operationId": op_ids[(str(row.method), row.stat_name, row.stat_label)],
                "rawValue": repr(value) if math.isfinite(value) else "NA",
                "formattedValue": _formatted(value, row.fmt),
            }
            rg = []
            for col, gid in used:
                v = getattr(row, col)
                if v != "":
                    rg.append({"groupingId": gid, "groupValue": str(v)})
            if rg:
                res["resultGroups"] = rg
            results.append(res)
        title = titles.get(str(aid), "")
        purpose = (
            "PRIMARY OUTCOME MEASURE" if title.lower().startswith("primary") else "SECONDARY OUTCOME MEASURE"
        )
        analysis = {
            "id": str(aid),
            "name": title or str(aid),
            "version": version,
            "reason": {"controlledTerm": "SPECIFIED IN SAP"},
            "purpose": {"controlledTerm": purpose},
            "dataset": str(part["dataset"].iloc[0]),
            "methodId": f"MTH_{_id(method)}",
            "analysisSetId": set_ids[str(part["population"].iloc[0])],
            "orderedGroupings": [
                {"order": i + 1, "groupingId": gid, "resultsByGroup": True}
                for i, (_col, gid) in enumerate(used)
            ],
            "results": results,
        }
        variable = next((v for v in part["variable"] if v), "")
        if variable:
            analysis["variable"] = variable
        param = next((v for v in part["parameter"] if v), "")
        if param:
            analysis["description"] = f"PARAMCD {param}"
        analyses.append(analysis)
        contents.append({"level": 1, "order": order, "name": title or str(aid), "analysisId": str(aid)})
    event = {
        "id": f"RE_{_id(name)}",
        "name": name,
        "version": version,
        "mainListOfContents": {"name": "Analyses of the plan", "contentsList": {"listItems": contents}},
        "analysisSets": analysis_sets,
        "analysisGroupings": groupings,
        "methods": methods,
        "analyses": analyses,
    }
    if description:
        event["description"] = description
    return event


def validate_ars(doc: Mapping[str, Any]) -> None:
    """Raise :class:`DataValidationError` (one line: the path and the schema's message) unless
    ``doc`` is valid against the CDISC ARS v1 JSON schema."""
    import jsonschema

    validator = jsonschema.Draft7Validator(ars_schema())
    err = next(iter(sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        raise DataValidationError(f"ARS reporting event: {where}: {err.message}")


def write_ars(
    ard: pd.DataFrame,
    path: str | Path,
    *,
    name: str,
    titles: Mapping[str, str] | None = None,
    description: str = "",
    validate: bool = False,
) -> Path:
    """Write ``ard`` as an ARS reporting event to ``path`` (atomically). The mapping is checked
    against the schema in the tests; ``validate=True`` checks this document too (about 3 s for the
    CDISC pilot's 4,000 results, so the commands leave it off)."""
    doc = ard_to_ars(ard, name=name, titles=titles, description=description)
    if validate:
        validate_ars(doc)
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
