"""Table layouts, declared before any data (the rtables idea: ``basic_table() |> split_rows_by``).

A :class:`TableLayout` names its ARD analysis, its columns (the treatment groups found in the ARD,
optionally a total) and its rows. Rows are bound to ARD filters, never to data values:

* :class:`Row` - one line; its cells are the ARD rows matching the table's analysis, the row's
  ``where`` filter and the column (``scope="arm"``: the group's own statistics, comparator blank;
  ``scope="vs_control"``: the group compared with the control, comparator set);
* :class:`Split` - one block per distinct value of an ARD column (visit, category, AE term,
  subgroup population) among the rows the filter selects, in ARD order; the block repeats its
  sub-rows with the value added to the filter (rtables' ``split_rows_by``);
* :class:`Section` - a heading line without cells.

Each row says how to format its cell with a format key of :data:`CELL_FORMATS` (all formatting goes
through :mod:`dermsim.report.format`, the one rounding rule). The default layouts of the built-in
atopic dermatitis plan are :data:`AD_LAYOUTS`; a layout whose analysis is absent from an ARD is
skipped, so the same list serves a real-data run with fewer analyses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dermsim.errors import InvalidInputError

__all__ = ["AD_LAYOUTS", "CELL_FORMATS", "Row", "Section", "Split", "TableLayout", "layout_by_name"]

# format key -> the stat_names it reads (see tables.format_cell)
CELL_FORMATS: dict[str, tuple[str, ...]] = {
    "n": ("n",),
    "count": ("count",),
    "count_pct": ("count", "pct"),
    "events": ("n_events",),
    "count_pct_rate": ("count", "pct", "rate"),
    "years": ("exposure_years",),
    "mean": ("mean",),
    "mean_sd": ("mean", "sd"),
    "median": ("median",),
    "q1_q3": ("q1", "q3"),
    "min_max": ("min", "max"),
    "resp_n_pct": ("count", "n", "pct"),
    "prop_ci_pct": ("estimate", "ci_lower", "ci_upper"),
    "diff_ci_pct": ("estimate", "ci_lower", "ci_upper"),
    "diff_ci_pct_p": ("estimate", "ci_lower", "ci_upper", "p_value"),
    "est_ci": ("estimate", "ci_lower", "ci_upper"),
    "estimate": ("estimate",),
    "est_se": ("estimate", "se"),
    "ci": ("ci_lower", "ci_upper"),
    "lsmean_se": ("lsmean", "lsmean_se"),
    "p": ("p_value",),
}

Scope = Literal["arm", "vs_control"]
Filter = Mapping[str, "str | tuple[str, ...]"]


def _check_fmt(fmt: str) -> str:
    if fmt not in CELL_FORMATS:
        raise InvalidInputError(f"fmt must be one of {', '.join(CELL_FORMATS)}; got {fmt!r}.")
    return fmt


@dataclass(frozen=True)
class Row:
    """One table line: label, ARD filter, cell format, digits and scope."""

    label: str
    fmt: str
    where: Filter = field(default_factory=dict)
    digits: int = 1
    scope: Scope = "arm"
    indent: int = 1
    extra: str = ""  # format of the row's cells in the layout's extra columns (e.g. "p"); blank: none

    def __post_init__(self) -> None:
        _check_fmt(self.fmt)
        if self.extra:
            _check_fmt(self.extra)
        if self.scope not in ("arm", "vs_control"):
            raise InvalidInputError(f"scope must be one of arm, vs_control; got {self.scope!r}.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "row",
            "label": self.label,
            "fmt": self.fmt,
            "where": dict(self.where),
            "digits": self.digits,
            "scope": self.scope,
            "indent": self.indent,
            "extra": self.extra,
        }


@dataclass(frozen=True)
class Section:
    """A heading line (no cells)."""

    label: str
    indent: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "section", "label": self.label, "indent": self.indent}


@dataclass(frozen=True)
class Split:
    """One block per distinct value of ARD column ``by`` among the rows ``where`` selects.

    ``rows`` are repeated per value with ``{by: value}`` added to their filter. With ``header``
    the value is a heading line above the block; without it (and one sub-row) the value is the
    row's label. ``labels`` maps a value to its display text; ``indent_by`` maps the value of
    another ARD column (e.g. ``variable``: AEDECOD) to an extra indent, for nested SOC/PT rows.
    """

    by: str | tuple[str, ...]  # an ARD column, or columns whose combinations nest (SOC, PT)
    rows: tuple[Row, ...]
    where: Filter = field(default_factory=dict)
    header: bool = True
    indent: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    indent_by: tuple[str, Mapping[str, int]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "split",
            "by": self.by,
            "rows": [r.to_dict() for r in self.rows],
            "where": dict(self.where),
            "header": self.header,
            "indent": self.indent,
            "labels": dict(self.labels),
        }


LayoutItem = Row | Section | Split


@dataclass(frozen=True)
class TableLayout:
    """A whole table: number and title as in a CSR ("Table 14.2.1"), population line, the ARD
    analysis it reads, columns, rows, footnotes; ``big_n`` is the ARD filter that gives the "(N=xx)"
    of each column header."""

    name: str
    number: str
    title: str
    analysis_id: str
    items: tuple[LayoutItem, ...]
    population: str = "Intent-to-treat population"
    total: bool = False
    big_n: Filter = field(
        default_factory=lambda: {
            "analysis_id": "populations",
            "variable": "ITTFL",
            "variable_level": "Y",
            "stat_name": "count",
        }
    )
    footnotes: tuple[str, ...] = ()
    stub_label: str = ""
    # columns after the groups, each an ARD filter (e.g. the overall test: group_level and
    # comparator blank; a pairwise test: group_level and comparator set); rows fill them with
    # their ``extra`` format
    extra_columns: tuple[tuple[str, Filter], ...] = ()
    # decimals of the p-values (cells of format "p"): 4 by default; a layout in the shape of a
    # published table follows its convention (the CDISC pilot prints 3 in its ANCOVA, MMRM and AE
    # tables, 4 in demographics and the CMH table)
    p_digits: int = 4

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "number": self.number,
            "title": self.title,
            "analysis_id": self.analysis_id,
            "items": [i.to_dict() for i in self.items],
            "population": self.population,
            "total": self.total,
            "big_n": dict(self.big_n),
            "footnotes": list(self.footnotes),
            "stub_label": self.stub_label,
            "extra_columns": [[label, dict(f)] for label, f in self.extra_columns],
            "p_digits": self.p_digits,
        }


# ---- the built-in atopic dermatitis layouts ---------------------------------------------------

_CONTINUOUS = (
    ("n", "n", 0),
    ("Mean (SD)", "mean_sd", 1),
    ("Median", "median", 1),
    ("Q1, Q3", "q1_q3", 1),
    ("Min, Max", "min_max", 1),
)


def _continuous(variable: str, label: str, digits: int = 1, **where: str) -> tuple[LayoutItem, ...]:
    return (
        Section(label),
        *(
            Row(lab, fmt, {"variable": variable, **where}, digits=digits if fmt != "n" else 0)
            for lab, fmt, _ in _CONTINUOUS
        ),
    )


def _categorical(
    variable: str, label: str, labels: Mapping[str, str] | None = None
) -> tuple[LayoutItem, ...]:
    return (
        Section(label),
        Split(
            "variable_level",
            (Row("", "count_pct"),),
            where={"variable": variable, "stat_name": "count"},
            header=False,
            indent=1,
            labels=labels or {},
        ),
    )


_RD_FOOT = (
    "Difference: common risk difference vs vehicle across the randomization strata (age group x "
    "baseline IGA), Mantel-Haenszel weights, Sato variance, 95% CI; p-value: "
    "Cochran-Mantel-Haenszel test stratified by the same strata."
)
_NRI_FOOT = "Subjects who discontinued or have no assessment at the visit are counted as non-responders."
_PROP_FOOT = "Response rate 95% CI: Wilson score interval."


def _binary_block(title: str, *, where: Filter | None = None) -> tuple[LayoutItem, ...]:
    w = dict(where or {})
    return (
        Section(title),
        Row("Responders, n/N (%)", "resp_n_pct", w),
        Row("Response rate, % (95% CI)", "prop_ci_pct", w),
        Row("Difference vs vehicle, % (95% CI)", "diff_ci_pct", w, scope="vs_control"),
        Row("p-value", "p", w, scope="vs_control"),
    )

_AE_FOOT = ("TEAE: adverse event starting on or after the first application and within the period. A "
            "subject is counted once per category; N is the number of subjects in the column for the period.")
_EAIR_FOOT = ("[ ]: exposure-adjusted incidence rate, subjects with the event per 100 patient-years at risk "
              "(exposure in the period, to the first event for subjects with one). Arms differ in period "
              "length and composition, so no between-arm test is shown.")


def _ae_layouts(summary_id: str, soc_id: str, numbers: tuple[str, str], period: str, population: str, *,
                rate: bool, names: tuple[str, str]) -> tuple[TableLayout, TableLayout]:
    """The TEAE overview and SOC/PT tables of one period: column N from the analysis' own
    denominator rows, so the header states the period's N; with ``rate`` the cells add the
    exposure-adjusted rate and a patient-years line, and no p-value."""
    cell = "count_pct_rate" if rate else "count_pct"
    years = Row("Patient-years of exposure", "years", {"variable": ""}, digits=1, indent=0)
    p_any = Row("p-value (any TEAE) vs vehicle", "p", {"variable": "TRTEMFL"}, scope="vs_control", indent=0)
    exposure = (years,) if rate else ()
    test = () if rate else (p_any,)
    foot_test = "" if rate else " p-value: Fisher's exact test (same period length in every arm)."
    overview = TableLayout(
        name=names[0],
        number=numbers[0],
        title=f"Overview of Treatment-Emergent Adverse Events: {period}",
        analysis_id=summary_id,
        population=population,
        big_n={"analysis_id": summary_id, "variable": "", "stat_name": "n"},
        items=(
            *exposure,
            Row("Any TEAE, n (%)" + (" [rate]" if rate else ""), cell, {"variable": "TRTEMFL"}, indent=0),
            Row("Number of events", "events", {"variable": "TRTEMFL"}),
            Row("Any serious TEAE, n (%)", cell, {"variable": "AESER"}, indent=0),
            Row("Any severe TEAE, n (%)", cell, {"variable": "AESEV"}, indent=0),
            Row("Any TEAE leading to discontinuation, n (%)", cell, {"variable": "AEACN"}, indent=0),
            *test,
        ),
        footnotes=(_AE_FOOT + foot_test, *((_EAIR_FOOT,) if rate else ())),
    )
    by_term = TableLayout(
        name=names[1],
        number=numbers[1],
        title=f"Treatment-Emergent Adverse Events by System Organ Class and Preferred Term: {period}",
        analysis_id=soc_id,
        population=population,
        big_n={"analysis_id": soc_id, "variable": "", "stat_name": "n"},
        stub_label="System organ class\n  Preferred term",
        items=(
            *exposure,
            Row("Any TEAE", cell, {"variable": "TRTEMFL"}, indent=0),
            Split(
                ("group2_level", "variable_level"),
                (Row("", cell),),
                where={"variable": ("AEBODSYS", "AEDECOD"), "stat_name": "count"},
                header=False,
                indent=0,
                indent_by=("variable", {"AEDECOD": 1}),
            ),
        ),
        footnotes=(
            _AE_FOOT + " MedDRA-like terms of the simulation.",
            *((_EAIR_FOOT,) if rate else ()),
        ),
    )
    return overview, by_term


# the tables of one trial; AD_LAYOUTS below adds the replicate-trials table
_TRIAL_LAYOUTS: tuple[TableLayout, ...] = (
    TableLayout(
        name="t14-1-1-disposition",
        number="14.1.1",
        title="Subject Disposition and Analysis Populations",
        analysis_id="disposition",
        total=True,
        population="All randomized subjects",
        items=(
            Section("Analysis populations"),
            Row(
                "Intent-to-treat",
                "count_pct",
                {"analysis_id": "populations", "variable": "ITTFL", "variable_level": "Y"},
            ),
            Row(
                "Safety",
                "count_pct",
                {"analysis_id": "populations", "variable": "SAFFL", "variable_level": "Y"},
            ),
            Row(
                "Efficacy evaluable",
                "count_pct",
                {"analysis_id": "populations", "variable": "EFFFL", "variable_level": "Y"},
            ),
            Section("End of study status"),
            Split(
                "variable_level",
                (Row("", "count_pct"),),
                where={"variable": "EOSSTT", "stat_name": "count"},
                header=False,
                indent=1,
                labels={"COMPLETED": "Completed", "DISCONTINUED": "Discontinued"},
            ),
            Section("Primary reason for discontinuation"),
            Split(
                "variable_level",
                (Row("", "count_pct"),),
                where={"variable": "DCSREAS", "stat_name": "count"},
                header=False,
                indent=1,
            ),
        ),
        footnotes=("Percentages are of the subjects randomized to each group.",),
    ),
    TableLayout(
        name="t14-1-2-demographics",
        number="14.1.2",
        title="Demographics and Baseline Characteristics",
        analysis_id="demographics",
        total=True,
        items=(
            *_continuous("AGE", "Age (years)"),
            *_categorical("AGEGR1", "Age group, n (%)"),
            *_categorical("SEX", "Sex, n (%)", {"F": "Female", "M": "Male"}),
            *_categorical("RACE", "Race, n (%)"),
            *_categorical("STRATAR", "Randomization stratum (baseline IGA / age group), n (%)"),
            *_categorical("IGABL", "Baseline IGA, n (%)", {"2": "2 (mild)", "3": "3 (moderate)"}),
            *_continuous("EASIBL", "Baseline EASI", digits=2),
            *_continuous("BSABL", "Baseline affected BSA (%)", digits=2),
            *_continuous("NRSBL", "Baseline itch NRS (weekly mean, ages 6-11)", digits=2),
        ),
        footnotes=(
            "SD: standard deviation; Q1, Q3: first and third quartiles (SAS QNTLDEF=5). Min and max at the "
            "precision of the data, mean, median and quartiles one decimal more, SD two more.",
        ),
    ),
    TableLayout(
        name="t14-2-1-primary",
        number="14.2.1",
        title="Primary Endpoint: IGA Treatment Success (IGA 0/1 with >= 2-Grade Improvement) at Week 8",
        analysis_id="iga-ts-w8",
        items=_binary_block("IGA-TS at Week 8"),
        footnotes=(_PROP_FOOT, _RD_FOOT, _NRI_FOOT),
    ),
    TableLayout(
        name="t14-2-2-key-secondary",
        number="14.2.2",
        title="Key Secondary Endpoints: EASI-75 and Itch NRS4 at Week 8",
        analysis_id="easi75-w8",
        items=(
            *_binary_block("EASI-75 at Week 8"),
            *_binary_block(
                "Itch NRS4 (>= 4-point improvement) at Week 8, baseline NRS >= 4",
                where={"analysis_id": "nrs4-w8"},
            ),
        ),
        footnotes=(
            _PROP_FOOT,
            _RD_FOOT,
            _NRI_FOOT,
            "Itch NRS is reported by subjects aged 6-11; NRS4 is analysed in those with baseline NRS >= 4.",
        ),
    ),
    TableLayout(
        name="t14-2-3-easi50-90",
        number="14.2.3",
        title="Other Secondary Endpoints: EASI-50 and EASI-90 at Week 8",
        analysis_id="easi50-w8",
        items=(
            *_binary_block("EASI-50 at Week 8"),
            *_binary_block("EASI-90 at Week 8", where={"analysis_id": "easi90-w8"}),
        ),
        footnotes=(_PROP_FOOT, _RD_FOOT, _NRI_FOOT),
    ),
    TableLayout(
        name="t14-2-4-iga-ts-by-visit",
        number="14.2.4",
        title="IGA Treatment Success by Visit",
        analysis_id="iga-ts-by-visit",
        items=(
            Split(
                "visit",
                (
                    Row("Responders, n/N (%)", "resp_n_pct"),
                    Row("Difference vs vehicle, % (95% CI)", "diff_ci_pct", scope="vs_control"),
                    Row("p-value", "p", scope="vs_control"),
                ),
            ),
        ),
        footnotes=(_RD_FOOT, _NRI_FOOT),
    ),
    TableLayout(
        name="t14-2-5-easi-pchg",
        number="14.2.5",
        title="Percent Change from Baseline in EASI by Visit (ANCOVA)",
        analysis_id="easi-pchg",
        items=(
            Split(
                "visit",
                (
                    Row("n", "n", {"variable": "PCHG"}, digits=0),
                    Row("LS mean (SE)", "lsmean_se", {"variable": "PCHG"}),
                    Row("Difference vs vehicle (95% CI)", "est_ci", {"variable": "PCHG"}, scope="vs_control"),
                    Row("p-value", "p", {"variable": "PCHG"}, scope="vs_control"),
                ),
                where={"variable": "PCHG"},
            ),
        ),
        footnotes=(
            "ANCOVA with treatment, baseline EASI and randomization stratum; missing values multiply "
            "imputed under MAR and combined by Rubin's rules.",
        ),
    ),
    TableLayout(
        name="t14-2-6-nrs-chg",
        number="14.2.6",
        title="Change from Baseline in Itch NRS by Visit (ANCOVA)",
        analysis_id="nrs-chg",
        items=(
            Split(
                "visit",
                (
                    Row("n", "n", {"variable": "CHG"}, digits=0),
                    Row("LS mean (SE)", "lsmean_se", {"variable": "CHG"}, digits=2),
                    Row(
                        "Difference vs vehicle (95% CI)",
                        "est_ci",
                        {"variable": "CHG"},
                        digits=2,
                        scope="vs_control",
                    ),
                    Row("p-value", "p", {"variable": "CHG"}, scope="vs_control"),
                ),
                where={"variable": "CHG"},
            ),
        ),
        population="Intent-to-treat population, subjects aged 6-11 with itch NRS",
        footnotes=("ANCOVA with treatment, baseline itch NRS and randomization stratum; observed cases.",),
    ),
    TableLayout(
        name="t14-2-7-subgroups",
        number="14.2.7",
        title="IGA Treatment Success at Week 8 by Subgroup",
        analysis_id="iga-ts-w8-subgroups",
        items=(
            Split(
                "population",
                (
                    Row("Responders, n/N (%)", "resp_n_pct"),
                    Row("Difference vs vehicle, % (95% CI)", "diff_ci_pct", scope="vs_control"),
                ),
                where={"stat_name": ("n", "estimate")},
            ),
            Split(
                "variable_level",
                (Row("", "p", scope="vs_control", indent=0),),
                where={"stat_name": "p_value"},  # the Breslow-Day rows: variable_level "interaction X"
                header=False,
                labels={
                    "interaction AGEGR1": "Homogeneity across age groups, p",
                    "interaction IGABL": "Homogeneity across baseline IGA, p",
                },
            ),
        ),
        footnotes=(
            _RD_FOOT,
            _NRI_FOOT,
            "Homogeneity: Breslow-Day test of a common odds ratio across the subgroup's levels (NE: not "
            "estimable).",
            "Subgroups are not powered; differences are descriptive.",
        ),
    ),
    *(
        _ae_layouts(
            "teae-summary", "teae-soc-pt", ("14.3.1", "14.3.2"),
            "Vehicle-Controlled Period (Day 1 to Week 8), by Randomized Treatment",
            "Safety population (subjects with at least one application), vehicle-controlled period",
            rate=False,
            names=("t14-3-1-teae-overview", "t14-3-2-teae-soc-pt"),
        )
    ),
    *(
        _ae_layouts(
            "teae-summary-lte", "teae-soc-pt-lte", ("14.3.3", "14.3.4"),
            "Long-Term Extension (after Week 8), by Treatment Received",
            "Safety subjects who entered the long-term extension, including vehicle subjects "
            "re-randomized to ruxolitinib cream",
            rate=True,
            names=("t14-3-3-teae-overview-lte", "t14-3-4-teae-soc-pt-lte"),
        )
    ),
)

_REPLICATE_ROWS = (
    Row("Virtual trials", "n", {"variable": "rate_pct"}, digits=0),
    Row("Response rate, %: mean (SD)", "mean_sd", {"variable": "rate_pct"}),
    Row("Response rate, %: median", "median", {"variable": "rate_pct"}),
    Row("Response rate, %: min, max", "min_max", {"variable": "rate_pct"}, digits=2),
    Row("Difference vs vehicle, %: median", "median", {"variable": "diff_pct"}, scope="vs_control"),
    Row(
        "Difference vs vehicle, %: min, max",
        "min_max",
        {"variable": "diff_pct"},
        digits=2,
        scope="vs_control",
    ),
    Row("Trials with p < 0.05 vs vehicle, %", "mean", {"variable": "p_lt_005_pct"}, scope="vs_control"),
)

AD_LAYOUTS: tuple[TableLayout, ...] = (
    *_TRIAL_LAYOUTS,
    TableLayout(
        name="t14-2-8-replicates",
        number="14.2.8",
        title="Week 8 Endpoints over Replicate Virtual Trials",
        analysis_id="replicates-w8",
        items=(
            Split(
                "parameter",
                _REPLICATE_ROWS,
                labels={
                    "IGATS": "IGA-TS at Week 8",
                    "EASI75": "EASI-75 at Week 8",
                    "NRS4": "Itch NRS4 at Week 8",
                },
            ),
        ),
        footnotes=(
            "Each virtual trial is a new sample of patients, randomization, dropout and outcomes from "
            "the same model and parameters (no parameter uncertainty); the reported trial is one of them. "
            "The share of trials with p < 0.05 estimates the power of the design under the model.",
        ),
    ),
)


def layout_by_name(name: str, layouts: tuple[TableLayout, ...] = AD_LAYOUTS) -> TableLayout:
    """The layout called ``name`` (e.g. "t14-2-1-primary")."""
    for lay in layouts:
        if lay.name == name:
            return lay
    raise InvalidInputError(f"layout must be one of {', '.join(x.name for x in layouts)}; got {name!r}.")
