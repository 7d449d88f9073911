"""The report: RTF tables, figures and one self-contained ``report.html``, from an ARD.

:func:`render_report` is the one entry point (``dermsim run``, ``dermsim report`` and ``dermsim
analyze --report`` call it): it builds every table of the layouts from the ARD, writes them as RTF
(``tlf/``), draws the figures (``figures/``, PNG and SVG) and writes ``report.html`` with the
tables as great_tables HTML and the figures embedded as base64 PNG, so the file can be mailed
alone. A :class:`ReportContext` without ``model`` gives the real-data variant: no model
provenance, no exposure figure, no comparison with the published trial.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim import __version__
from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError, NotEstimableError
from dermsim.report import figures as F
from dermsim.report.format import fmt_ci, fmt_num
from dermsim.report.generic_layouts import analysis_method, covered_analyses, generic_layouts
from dermsim.report.html_tables import render_table_html
from dermsim.report.layouts import AD_LAYOUTS, TableLayout
from dermsim.report.published import comparison_points
from dermsim.report.rtf import write_table_rtf
from dermsim.report.tables import TableData, build_tables
from dermsim.report.templating import render_template, safe

__all__ = ["ModelSection", "ReportContext", "render_report", "render_report_html", "report_layouts"]


@dataclass(frozen=True)
class ModelSection:
    """What only a simulated run has: provenance, exposure, comparison with the published trial."""

    provenance: tuple[tuple[str, str], ...]
    exposure: pd.DataFrame | None = None
    threshold_nM: float = 281.0
    comparison: pd.DataFrame | None = None
    validation: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportContext:
    """Everything the report shows besides the ARD."""

    title: str
    design: tuple[tuple[str, str], ...] = ()
    model: ModelSection | None = None
    data_links: tuple[tuple[str, str], ...] = ()
    source: str = "Source: ard.csv"
    layouts: tuple[TableLayout, ...] = AD_LAYOUTS
    listings: tuple[TableData, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)  # analysis id -> plan title
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Figure:
    name: str
    title: str
    caption: str
    png: bytes


def _figure_specs(ard: pd.DataFrame, ctx: ReportContext) -> list[tuple[str, str, str, Callable[[], Any]]]:
    ids = set(ard["analysis_id"])
    specs: list[tuple[str, str, str, Callable[[], Any]]] = []
    if {"populations", "disposition"} <= ids:
        specs.append(
            (
                "f-consort",
                "Subject flow (CONSORT)",
                "Randomized, allocated, discontinued (by reason), "
                "completed and analysed subjects per arm; from the populations and disposition ARD rows.",
                lambda: F.plot_consort(ard),
            )
        )
    if "iga-ts-by-visit" in ids:
        specs.append(
            (
                "f-iga-ts-by-visit",
                "IGA treatment success over time",
                "Response rate per arm by visit; bands are 95% Wilson confidence intervals.",
                lambda: F.plot_responders_over_time(ard, published=_published_iga(ctx)),
            )
        )
    if ids & {"easi-pchg", "nrs-chg"}:
        specs.append(
            (
                "f-change-by-visit",
                "EASI and itch NRS by visit",
                "LS mean (percent) change from baseline with 95% CI, ANCOVA per visit.",
                lambda: F.plot_change_by_visit(ard),
            )
        )
    if "iga-ts-w8-subgroups" in ids or "iga-ts-w8" in ids:
        specs.append(
            (
                "f-forest-iga-ts",
                "Primary endpoint by subgroup",
                "Stratified risk difference vs vehicle in IGA-TS at Week 8 with 95% CI, overall and by "
                "subgroup.",
                lambda: F.plot_forest(ard),
            )
        )
    for aid in dict.fromkeys(ard["analysis_id"]):
        part = ard[ard["analysis_id"] == aid]
        if analysis_method(part) == "km" and (part["variable_level"] == "curve").any():
            specs.append(
                (
                    f"f-km-{aid}",
                    ctx.titles.get(aid) or f"Kaplan-Meier estimates ({aid})",
                    "Kaplan-Meier estimate of the survival function per group, numbers at risk below.",
                    lambda aid=aid: F.plot_km(ard, aid),
                )
            )
    m = ctx.model
    if m is not None and m.comparison is not None and len(m.comparison):
        pts = comparison_points(m.comparison, m.validation)
        if pts["published"].notna().any():
            specs.append(
                (
                    "f-simulated-vs-published",
                    "Simulated vs published results",
                    "This run's arms (95% CI) and, where the calibration's validation ladder has run, "
                    "the cross-predicted calibration trials and the held-out TRuE-AD3 (90% predictive "
                    "intervals) against the published values.",
                    lambda: F.plot_simulated_vs_published(pts),
                )
            )
    if m is not None and m.exposure is not None and len(m.exposure):
        specs.append(
            (
                "f-css-vs-281nM",
                "Steady-state plasma concentration",
                f"Model-predicted average steady-state plasma concentration of every virtual patient "
                f"per active arm (log scale) against {fmt_num(m.threshold_nM, 0)} nM.",
                lambda: F.plot_css_distribution(m.exposure, m.threshold_nM),
            )
        )
    return specs


def _published_iga(ctx: ReportContext) -> dict[str, tuple[str, float]]:
    """Published IGA-TS per arm at Week 8 (from the comparison rows), for the responder figure."""
    cmp = ctx.model.comparison if ctx.model is not None else None
    if cmp is None or not len(cmp):
        return {}
    rows = cmp[(cmp["endpoint"] == "IGA-TS") & cmp["published_pct"].notna()]
    return {str(r.arm): ("Week 8", float(r.published_pct)) for r in rows.itertuples()}


def report_layouts(ard: pd.DataFrame, ctx: ReportContext) -> tuple[TableLayout, ...]:
    """The specialised layouts of the context, then a generic layout (after its method) for every
    analysis of the ARD they do not show: so any plan gets a report."""
    covered = covered_analyses(ctx.layouts)
    return (*ctx.layouts, *generic_layouts(ard, exclude=covered, titles=ctx.titles))


def _chmod(path: Path) -> None:
    # temporary files are created 0600; report files are meant to be shared
    os.chmod(path, 0o644)


def render_report(
    ard: pd.DataFrame,
    out_dir: str | Path,
    ctx: ReportContext,
    *,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write ``tlf/*.rtf``, ``figures/*.png|svg`` and ``report.html`` into ``out_dir``; return the
    paths by kind ("report", "rtf:<name>", "png:<name>", "svg:<name>")."""
    out = Path(out_dir)
    note = progress or (lambda _msg: None)
    tables = build_tables(ard, report_layouts(ard, ctx), source=ctx.source)
    if not tables:
        raise DataValidationError(
            "the ARD holds no analysis with a table layout (analyses: "
            f"{', '.join(dict.fromkeys(ard['analysis_id'])) or 'none'})."
        )
    paths: dict[str, Path] = {}
    for t in (*tables, *ctx.listings):
        paths[f"rtf:{t.name}"] = write_table_rtf(t, out / "tlf" / f"{t.name}.rtf")
        _chmod(paths[f"rtf:{t.name}"])
    note(f"{len(tables)} RTF tables, {len(ctx.listings)} listings")
    figs: list[_Figure] = []
    for name, title, caption, make in _figure_specs(ard, ctx):
        try:
            fig = make()
        except NotEstimableError as exc:
            fig = F.plot_not_estimable(title, str(exc))
        saved = F.save_figure(fig, out / "figures", name)
        for kind, p in saved.items():
            _chmod(p)
            paths[f"{kind}:{name}"] = p
        figs.append(_Figure(name, title, caption, saved["png"].read_bytes()))
    note(f"{len(figs)} figures")
    text = render_report_html(ctx, tables, figs)
    paths["report"] = out / "report.html"
    with atomic_path(paths["report"]) as tmp:
        tmp.write_text(text, encoding="utf-8")
    _chmod(paths["report"])
    return paths


# ---- HTML -----------------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:0;color:#222;line-height:1.45}
header{background:#0b3d5c;color:#fff;padding:18px 28px}header h1{margin:0;font-size:1.5em}
header p{margin:4px 0 0;opacity:.9}
nav{padding:8px 28px;background:#f0f4f7;border-bottom:1px solid #d5dde3;font-size:.92em}
nav a{margin-right:14px;color:#0b3d5c}
main{padding:8px 28px 40px;max-width:1180px}
h2{border-bottom:2px solid #0b3d5c;padding-bottom:3px;margin-top:34px}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:3px 18px}dl.kv dt{font-weight:600}
dl.kv dd{margin:0}
table.plain{border-collapse:collapse;font-size:13px;margin:8px 0}
table.plain th,table.plain td{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
table.plain th{background:#f0f4f7}
figure{margin:18px 0 28px}figure img{max-width:100%;height:auto;border:1px solid #e3e3e3}
figcaption{font-size:.9em;color:#444}
.note{background:#fff8e1;border-left:4px solid #E69F00;padding:6px 12px;margin:10px 0}
.tlf{margin:18px 0 30px}
code{background:#f4f4f4;padding:0 3px}
"""


def _comparison_rows(cmp: pd.DataFrame) -> list[dict[str, str]]:
    """The comparison table's cells as text (the template escapes them)."""
    out = []
    for r in cmp.itertuples():
        pre = (
            ""
            if pd.isna(r.prereg_median_pct)
            else f"{fmt_num(r.prereg_median_pct, 1)} {fmt_ci(r.prereg_low_pct, r.prereg_high_pct, 1)}"
        )
        sim = f"{fmt_num(r.simulated_pct, 1, missing='NE')} {fmt_ci(r.sim_ci_low, r.sim_ci_high, 1)}"
        out.append({
            "endpoint": str(r.endpoint), "arm": str(r.arm), "simulated": sim,
            "published": fmt_num(r.published_pct, 1, missing="not published"),
            "published_p": str(r.published_p), "status": str(r.status), "prereg": pre,
            "source": str(r.source), "note": str(r.note) if r.note else "",
        })
    return out


def render_report_html(ctx: ReportContext, tables: Sequence[TableData], figures: Sequence[_Figure]) -> str:
    """The whole ``report.html`` text (self-contained: inline CSS, figures as data URIs), from the
    jinja2 template ``templates/report.html`` (autoescaped; only the great_tables fragments and the
    CSS are marked safe)."""
    m = ctx.model
    nav = [
        ("design", "Design"),
        *(
            [("model", "Model and calibration"), ("published", "Compared with the published trial")]
            if m is not None
            else []
        ),
        ("tables", "Tables"),
        *([("listings", "Listings")] if ctx.listings else []),
        ("figures", "Figures"),
        ("data", "Data files"),
    ]

    def tlf(t: TableData) -> dict[str, Any]:
        return {"name": t.name, "heading": t.heading, "html": safe(render_table_html(t))}

    return render_template(
        "report.html",
        title=ctx.title,
        version=__version__,
        css=safe(_CSS),
        nav=nav,
        design=ctx.design,
        model=m,
        comparison=_comparison_rows(m.comparison) if m is not None and m.comparison is not None else [],
        tables=[tlf(t) for t in tables],
        listings=[tlf(t) for t in ctx.listings],
        figures=[
            {"name": f.name, "title": f.title, "caption": f.caption,
             "data": base64.b64encode(f.png).decode("ascii")}
            for f in figures
        ],
        data_links=ctx.data_links,
    )
