"""Layouts for any plan, chosen by the methods its ARD holds.

The built-in atopic dermatitis layouts (:data:`dermsim.report.layouts.AD_LAYOUTS`) are written
for the analysis ids of the built-in plan. Any other plan (a sponsor's, the CDISC pilot's) gets
one table per analysis here, laid out after its method, in the shape of the CDISC Pilot 01
tables:

* ``populations``: one line per population flag, n (%) per group and in total (t14-1-01);
* ``demographics``, ``descriptive``, ``categorical``: per variable n, mean (SD), median, Q1/Q3,
  min/max or n (%) per category, and the overall test in a "p-value" column (t14-2-01);
* ``proportion_rd_cmh``: responders, rate with CI, difference with CI and p vs the control;
* ``ancova`` and any analysis with LS means (MMRM): per visit the summaries of BASE, AVAL and the
  analysed variable, LS means (SE), each comparison's difference (SE), CI and p, the overall tests
  (dose response) in the p-value column (t14-3-01);
* ``cmh``: per visit n (%) per category and the CMH tests vs the control and overall (t14-3-13);
* ``teae_soc_pt``/``teae_summary``: SOC and PT rows, column N from the analysis' denominator, the
  pairwise Fisher p-values as extra columns (t14-5-01); exposure-adjusted rates when present;
* ``km``: events, median with CI, numbers at risk and survival with CI at each time point, log-rank
  p (the table beside the Kaplan-Meier figure of f14-ttde);
* ``tipping_point``: subjects and imputed (missing) outcomes per arm, the pooled difference vs the
  control with CI and p at every delta of the grid, and the tipping delta (the table beside the
  tipping-point figure, :func:`dermsim.report.figures.plot_tipping_point`).

p-values print with the decimals of the pilot table of the same kind (3 in the ANCOVA 14-3.01, MMRM
14-3.11 and AE 14-5.01 tables, 4 in demographics 14-2.01 and CMH 14-3.13; :data:`P_DIGITS`), 4 for
kinds the pilot has no table of. Table numbers follow the pilot's own: "Table 14-2.01" for the
analysis id ``t14-2-01`` (the pilot's titles print "Table 14-2.01", section 14-2, table 01).

Everything is bound to ARD filters on ``stat_name``, ``variable``, ``variable_level``, ``visit``
and ``comparator``, never to the statistic's sub-method, so the layouts survive changes in how a
method names its parts. Nothing is computed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from dermsim.report.layouts import LayoutItem, Row, Section, Split, TableLayout

__all__ = ["LABELS", "P_DIGITS", "analysis_method", "covered_analyses", "generic_layout", "generic_layouts"]

# display labels of common ADaM variables (others print as their name)
LABELS: dict[str, str] = {
    "ITTFL": "Intent-to-treat (ITT)",
    "SAFFL": "Safety",
    "EFFFL": "Efficacy",
    "COMP8FL": "Completers of Week 8",
    "COMP16FL": "Completers of Week 16",
    "COMP24FL": "Completers of Week 24",
    "RANDFL": "Randomized",
    "PPROTFL": "Per protocol",
    "AGE": "Age (y)",
    "AGEGR1": "Age group",
    "SEX": "Sex",
    "RACE": "Race",
    "ETHNIC": "Ethnicity",
    "MMSETOT": "MMSE",
    "DURDIS": "Duration of disease (months)",
    "EDUCLVL": "Years of education",
    "WEIGHTBL": "Baseline weight (kg)",
    "HEIGHTBL": "Baseline height (cm)",
    "BMIBL": "Baseline BMI (kg/m2)",
    "BASE": "Baseline",
    "CHG": "Change from baseline",
    "PCHG": "Percent change from baseline",
    "EOSSTT": "End of study status",
    "DCSREAS": "Reason for discontinuation",
    "TRTEMFL": "Any treatment-emergent adverse event",
    "AESER": "Serious",
    "AESEV": "Severe",
    "AEREL": "Related",
    "AEACN": "Leading to discontinuation",
}
_P_COLUMN = (("p-value", {"group_level": "", "comparator": ""}),)
# decimals of p-values by method, as the CDISC Pilot 01 tables print them (the 2020 R replication of
# the pilot's RTF outputs, atorus-research/CDISC_pilot_replication, outputs/14-*.rtf): 14-2.01
# "0.5934", 14-3.01 "0.245", 14-3.11 "0.965", 14-3.13 "0.2727", 14-5.01 "0.007"
P_DIGITS: dict[str, int] = {
    "populations": 4, "demographics": 4, "descriptive": 4, "categorical": 4, "disposition": 4,
    "ancova": 3, "mmrm": 3, "cmh": 4, "teae_soc_pt": 3, "teae_summary": 3,
}
_CONT = (
    ("n", "n", 0),
    ("Mean (SD)", "mean_sd", 1),
    ("Median", "median", 1),
    ("Q1, Q3", "q1_q3", 1),
    ("Min, Max", "min_max", 2),
)


def analysis_method(part: pd.DataFrame) -> str:
    """The plan method of one analysis' ARD rows: the method of its first row (the methods write
    their own summary rows first)."""
    return str(part["method"].iloc[0]) if len(part) else ""


def covered_analyses(layouts: Sequence[TableLayout]) -> set[str]:
    """Analysis ids the given (specialised) layouts already show."""
    ids: set[str] = set()
    for lay in layouts:
        ids.add(lay.analysis_id)
        ids.add(str(lay.big_n.get("analysis_id", lay.analysis_id)))
        for item in lay.items:
            rows = item.rows if isinstance(item, Split) else (item,) if isinstance(item, Row) else ()
            for r in (*rows, *((item,) if isinstance(item, Split) else ())):
                aid = r.where.get("analysis_id")
                if isinstance(aid, str):
                    ids.add(aid)
    return ids


def _number(aid: str) -> str:
    """The table number from a CSR-style id: "t14-2-01" -> "14-2.01" (as the pilot prints it)."""
    m = re.fullmatch(r"[tfl](\d+)-(\d+)-(\d+)", aid)
    return f"{m.group(1)}-{m.group(2)}.{m.group(3)}" if m else aid


def _label(var: str, labels: Mapping[str, str]) -> str:
    return labels.get(var) or LABELS.get(var) or var


def _uniq(values: pd.Series) -> list[str]:
    return [v for v in dict.fromkeys(values.astype(str)) if v != ""]


def _control(part: pd.DataFrame) -> str:
    comp = part.loc[part["comparator"] != "", "comparator"]
    return str(comp.mode().iloc[0]) if len(comp) else ""


def _continuous_block(var: str, label: str, where: Mapping[str, str], *, p: bool) -> tuple[LayoutItem, ...]:
    w = {"variable": var, "variable_level": "", **where}
    return (
        Section(label),
        *(Row(lab, fmt, w, digits=d, extra="p" if (p and fmt == "n") else "") for lab, fmt, d in _CONT),
    )


def _categorical_block(var: str, label: str, where: Mapping[str, str], *, p: bool) -> tuple[LayoutItem, ...]:
    return (
        Section(label),
        Row("n", "n", {"variable": var, "variable_level": "", **where}, digits=0, extra="p" if p else ""),
        Split(
            "variable_level",
            (Row("", "count_pct"),),
            where={"variable": var, "stat_name": "count", **where},
            header=False,
            indent=1,
        ),
    )


def _by_variable(part: pd.DataFrame, labels: Mapping[str, str], where: Mapping[str, str]) -> list[LayoutItem]:
    sel = part
    for k, v in where.items():
        sel = sel[sel[k] == v]
    items: list[LayoutItem] = []
    for var in _uniq(sel["variable"]):
        rows = sel[sel["variable"] == var]
        p = bool(((rows["stat_name"] == "p_value") & (rows["group_level"] == "")).any())
        if (rows["stat_name"] == "mean").any():
            items += _continuous_block(var, _label(var, labels), where, p=p)
        elif (rows["stat_name"] == "count").any():
            items += _categorical_block(var, _label(var, labels), where, p=p)
    return items


def _populations(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    return [Row(_label(v, labels), "count_pct", {"variable": v}, indent=0) for v in _uniq(part["variable"])]


def _descriptive(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    visits = _uniq(part["visit"])
    if not visits:
        return _by_variable(part, labels, {})
    items: list[LayoutItem] = []
    for v in visits:
        items += [Section(v), *_by_variable(part, labels, {"visit": v})]
    return items


def _comparisons(
    part: pd.DataFrame, control: str, where: Mapping[str, str], *, estimate: str, digits: int = 1
) -> list[LayoutItem]:
    """Difference and p rows for each reference level: the control first, then the other pairs."""
    refs = _uniq(
        part.loc[part["stat_name"].isin(["estimate", "p_value"]) & (part["group_level"] != ""), "comparator"]
    )
    refs = sorted(refs, key=lambda r: r != control)
    items: list[LayoutItem] = []
    for ref in refs:
        w = {**where, "comparator": ref}
        items += (
            [
                Section(f"Comparison with {ref}", indent=1),
                Row("Difference of LS means (SE)", "est_se", w, digits=digits, scope="vs_control"),
                Row("95% CI", "ci", w, digits=digits, scope="vs_control"),
                Row("p-value", "p", w, scope="vs_control"),
            ]
            if estimate == "est_se"
            else [
                Section(f"Comparison with {ref}", indent=1),
                Row("Difference, % (95% CI)", "diff_ci_pct", w, scope="vs_control"),
                Row("p-value", "p", w, scope="vs_control"),
            ]
        )
    return items


def _lsmeans(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    control = _control(part)
    items: list[LayoutItem] = []
    for v in _uniq(part["visit"]) or [""]:
        at = part if not v else part[part["visit"] == v]
        where = {"visit": v} if v else {}
        if v:
            items.append(Section(v))
        for var in _uniq(at.loc[at["stat_name"] == "mean", "variable"]):
            lab = _label(var, labels) if var != "AVAL" else (v or "Value")
            items += [
                Section(lab, indent=1),
                Row("n", "n", {"variable": var, **where}, digits=0, indent=2),
                Row("Mean (SD)", "mean_sd", {"variable": var, **where}, indent=2),
                Row("Median", "median", {"variable": var, **where}, indent=2),
                Row("Min, Max", "min_max", {"variable": var, **where}, digits=2, indent=2),
            ]
        if not (at["stat_name"] == "mean").any() and (at["stat_name"] == "n").any():
            items.append(Row("n", "n", {"variable_level": "", **where}, digits=0))
        if (at["stat_name"] == "lsmean").any():
            items.append(Row("LS mean (SE)", "lsmean_se", {"variable_level": "", **where}, digits=1))
        overall = at[(at["stat_name"] == "p_value") & (at["group_level"] == "") & (at["comparator"] == "")]
        for lev in _uniq(overall["variable_level"]):
            if lev in ("model",):
                continue
            items.append(
                Row(
                    f"p-value ({_overall_label(lev, labels)})",
                    "n",
                    {"variable_level": lev, **where},
                    extra="p",
                    indent=1,
                )
            )
        items += _comparisons(at, control, {"variable_level": "", **where}, estimate="est_se")
    return items


def _overall_label(level: str, labels: Mapping[str, str]) -> str:
    if level.endswith("PN") or level.endswith("AN"):
        return "dose response"
    return _label(level, labels)


def _per_visit(part: pd.DataFrame,
               block: Callable[[pd.DataFrame, dict[str, str]], list[LayoutItem]]) -> list[LayoutItem]:
    """``block(rows of the visit, visit filter)`` under a heading per visit (none without visits)."""
    items: list[LayoutItem] = []
    for v in _uniq(part["visit"]) or [""]:
        if v:
            items.append(Section(v))
        items += block(part if not v else part[part["visit"] == v], {"visit": v} if v else {})
    return items


def _binary(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    control = _control(part)
    return _per_visit(part, lambda at, where: [
        Row("Responders, n/N (%)", "resp_n_pct", where),
        Row("Response rate, % (95% CI)", "prop_ci_pct", where),
        *_comparisons(at, control, where, estimate="pct"),
    ])


def _cmh(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    control = _control(part)
    items: list[LayoutItem] = []
    for v in _uniq(part["visit"]) or [""]:
        where = {"visit": v} if v else {}
        at = part if not v else part[part["visit"] == v]
        var = _uniq(at.loc[at["stat_name"] == "count", "variable"])
        if v:
            items.append(Section(v))
        for x in var:
            items += [
                Row("n", "n", {"variable": x, "variable_level": "", **where}, digits=0),
                Split(
                    "variable_level",
                    (Row("", "count_pct"),),
                    where={"variable": x, "stat_name": "count", **where},
                    header=False,
                    indent=1,
                ),
            ]
        tests = _uniq(at.loc[at["stat_name"] == "p_value", "variable_level"])
        for t in tests:
            items.append(
                Row(
                    f"CMH {t}: p-value vs {control}" if control else f"CMH {t}: p-value",
                    "p",
                    {"variable_level": t, **where},
                    scope="vs_control" if control else "arm",
                    extra="p",
                )
            )
    return items


def _ae(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    rate = (part["stat_name"] == "rate").any()
    cell = "count_pct_rate" if rate else "count_pct"
    items: list[LayoutItem] = []
    if rate:
        items.append(Row("Patient-years at risk", "years", {"variable": ""}, indent=0))
    soc_pt = part["variable"].isin(["AEBODSYS", "AEDECOD"]).any()
    items.append(
        Row(
            "Any treatment-emergent adverse event",
            cell,
            {"variable": "TRTEMFL", "variable_level": "ANY"},
            indent=0,
            extra="p",
        )
    )
    if soc_pt:
        items.append(
            Split(
                ("group2_level", "variable_level"),
                (Row("", cell, extra="p"),),
                where={"variable": ("AEBODSYS", "AEDECOD"), "stat_name": "count"},
                header=False,
                indent=0,
                indent_by=("variable", {"AEDECOD": 1}),
            )
        )
    else:
        for var in _uniq(part["variable"]):
            if var != "TRTEMFL":
                items.append(Row(_label(var, labels), cell, {"variable": var}, indent=0, extra="p"))
    return items


def _km(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    var = _uniq(part["variable"])[0] if len(part) else ""
    time_col = "timepoint" if "timepoint" in part.columns else "visit"
    lev = {"variable_level": ""}
    items: list[LayoutItem] = [
        Row("Subjects", "n", {**lev, "variable": var}, digits=0, indent=0),
        Row("Events", "events", {**lev, "variable": var}, indent=0),
        Row("Median (95% CI)", "est_ci", {"variable_level": "median"}, indent=0),
        Row("Log-rank p-value", "n", {"variable_level": "log-rank"}, indent=0, extra="p"),
        Section("Number at risk"),
        Split(
            time_col,
            (Row("", "n"),),
            where={"variable_level": "at_risk", "stat_name": "n"},
            header=False,
            indent=1,
        ),
        Section("Survival probability (95% CI)"),
        Split(
            time_col,
            (Row("", "est_ci", digits=3),),
            where={"variable_level": "survival", "stat_name": "estimate"},
            header=False,
            indent=1,
        ),
    ]
    return items


def _tipping(part: pd.DataFrame, labels: Mapping[str, str]) -> list[LayoutItem]:
    control = _control(part)
    deltas = _uniq(part.loc[part["variable_level"].str.startswith("delta="), "variable_level"])
    names = {d: _delta_label(d) for d in deltas}
    vs = f" vs {control}" if control else ""
    return _per_visit(part, lambda _at, where: [
        Row("Subjects", "n", {"variable_level": "missing", **where}, digits=0),
        Row("Missing outcome (imputed)", "count", {"variable_level": "missing", **where}),
        Section(f"Difference{vs}, % (95% CI); p-value"),
        Split(
            "variable_level",
            (Row("", "diff_ci_pct_p", scope="vs_control"),),
            where={"variable_level": tuple(deltas), "stat_name": "estimate", **where},
            header=False,
            indent=1,
            labels=names,
        ),
        Row("Tipping point (delta, log-odds)", "estimate", {"variable_level": "tipping point", **where},
            digits=2, scope="vs_control", indent=0),
    ])


def _delta_label(level: str) -> str:
    """ "delta=-1.5" -> "delta -1.5" and "delta=0" -> "delta 0 (missing at random)"."""
    d = level.split("=", 1)[1]
    return f"delta {d} (missing at random)" if float(d) == 0 else f"delta {d}"


_BUILDERS = {
    "populations": _populations,
    "demographics": _descriptive,
    "descriptive": _descriptive,
    "categorical": _descriptive,
    "disposition": _descriptive,
    "proportion_rd_cmh": _binary,
    "ancova": _lsmeans,
    "mmrm": _lsmeans,
    "cmh": _cmh,
    "teae_soc_pt": _ae,
    "teae_summary": _ae,
    "km": _km,
    "tipping_point": _tipping,
}
_FOOTNOTES = {
    "populations": "Percentages are of the subjects in each group.",
    "demographics": "p-value: one-way ANOVA for continuous variables, Pearson chi-square test for "
    "categorical variables. Q1, Q3: quartiles (SAS QNTLDEF=5).",
    "ancova": "LS means from the ANCOVA model of the plan (equal weights); differences and p-values from the "
    "same model. p-value (dose response): test of the dose as a continuous term.",
    "mmrm": "LS means by visit from the mixed model for repeated measures of the plan; differences and "
    "p-values from the same model.",
    "cmh": "Cochran-Mantel-Haenszel tests controlling for the plan's strata; the p-value column holds the "
    "test over all groups.",
    "teae_soc_pt": "A subject is counted once per system organ class and once per preferred term. p-values: "
    "Fisher's exact test vs the control.",
    "teae_summary": "A subject is counted once per category.",
    "km": "Kaplan-Meier estimates with log-log confidence intervals; numbers at risk at each time point.",
    "proportion_rd_cmh": "Response rate CI: the plan's interval method; difference: common risk difference "
    "across strata with the CMH test.",
    "tipping_point": "Delta-adjusted multiple imputation: missing outcomes imputed within arm and stratum "
    "(missing at random at delta 0), shifted by delta on the log-odds scale in the active arms; each "
    "completed data set analysed as the primary (common risk difference, Mantel-Haenszel weights), pooled "
    "by Rubin's rules. Tipping point: the delta at which the conclusion at the plan's alpha changes "
    "(NE: it does not change within the grid).",
}


def generic_layout(
    ard: pd.DataFrame, analysis_id: str, *, title: str = "", labels: Mapping[str, str] | None = None
) -> TableLayout | None:
    """The layout of one analysis after its method; None for a method without one."""
    part = ard[ard["analysis_id"] == analysis_id]
    method = analysis_method(part)
    if (part["stat_name"] == "lsmean").any() and method not in _BUILDERS:
        method = "mmrm"  # any LS-means analysis (e.g. MMRM) gets the LS-means layout
    build = _BUILDERS.get(method)
    # subgroup analyses (one population per level) have no generic layout: a cell would bind one
    # value per subgroup; the specialised subgroup layout splits them
    if build is None or part.empty or part["population"].nunique() > 1:
        return None
    items = tuple(build(part, labels or {}))
    control = _control(part)
    extra: tuple[tuple[str, Mapping[str, str]], ...] = ()
    overall = (
        (part["stat_name"] == "p_value") & (part["group_level"] == "") & (part["comparator"] == "")
    ).any()
    if method in ("teae_soc_pt", "teae_summary") and control:
        arms = [a for a in _uniq(part.loc[part["comparator"] == control, "group_level"])]
        extra = tuple((f"p: {a} vs {control}", {"group_level": a, "comparator": control}) for a in arms)
    elif overall and method not in ("km",):
        extra = _P_COLUMN
    elif method == "km":
        extra = _P_COLUMN
    has_n = ((part["variable"] == "") & (part["stat_name"] == "n") & (part["group_level"] != "")).any()
    big_n = (
        {"analysis_id": analysis_id, "variable": "", "stat_name": "n"}
        if has_n
        else {"analysis_id": analysis_id, "variable_level": "missing", "stat_name": "n"}
        if method == "tipping_point"
        else {
            "analysis_id": analysis_id,
            "stat_name": "n",
            "variable_level": "",
            "variable": _first_n_variable(part),
        }
    )
    big_n = {**big_n, **_n_visit(part, big_n)}
    pop = str(part["population"].iloc[0])
    return TableLayout(
        name=analysis_id,
        number=_number(analysis_id),
        title=title or analysis_id,
        analysis_id=analysis_id,
        items=items,
        population=f"Population: {pop}" if pop else "All subjects",
        total=method in ("populations", "demographics", "descriptive", "categorical", "disposition")
        and ((part["group_level"] == "") & (part["stat_name"].isin(["n", "count"]))).any(),
        big_n=big_n,
        footnotes=(_FOOTNOTES.get(method, ""),) if method in _FOOTNOTES else (),
        stub_label="System organ class\n  Preferred term" if method == "teae_soc_pt" else "",
        extra_columns=extra,
        p_digits=P_DIGITS.get(method, 4),
    )


def _n_visit(part: pd.DataFrame, big_n: Mapping[str, str]) -> dict[str, str]:
    """When the header's n rows repeat per visit (CMH, MMRM), the visit with the most subjects
    (the first such in ARD order): the analysis population, not a visit's completers."""
    sel = part
    for k, v in big_n.items():
        if k != "analysis_id":
            sel = sel[sel[k] == v]
    sel = sel[(sel["group_level"] != "") & (sel["comparator"] == "")]
    if sel.empty or sel["visit"].nunique() < 2:
        return {}
    totals = sel.groupby("visit", sort=False)["stat_value"].sum()
    return {"visit": str(totals.idxmax())}


def _first_n_variable(part: pd.DataFrame) -> str:
    rows = part[(part["stat_name"] == "n") & (part["group_level"] != "") & (part["variable_level"] == "")]
    return str(rows["variable"].iloc[0]) if len(rows) else ""


def generic_layouts(
    ard: pd.DataFrame,
    *,
    exclude: set[str] | frozenset[str] = frozenset(),
    titles: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[TableLayout, ...]:
    """One layout per analysis of ``ard`` not in ``exclude`` (in ARD order), after its method."""
    out = []
    for aid in dict.fromkeys(ard["analysis_id"]):
        if aid in exclude:
            continue
        lay = generic_layout(ard, aid, title=(titles or {}).get(aid, ""), labels=labels)
        if lay is not None:
            out.append(lay)
    return tuple(out)
