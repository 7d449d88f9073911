"""Reports: the run report's context (design, model provenance, published comparison, validation
ladder), the report rendered again from a run folder or ARD file, the analysis report of supplied
ADaM data, and the week-8 summary rows the command line and the app show after a run."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim import __version__
from dermsim.errors import InvalidInputError
from dermsim.io.ard import read_ard
from dermsim.report.html_report import ModelSection, ReportContext, render_report
from dermsim.report.listings import AD_LISTINGS, build_listings
from dermsim.report.published import collect_validation_points, compare_with_published
from dermsim.trial import TrialDesign, load_design
from dermsim.workflows.outputs import check_out, output_dir

__all__ = ["EXPOSURE", "MANIFEST", "ReportRun", "render_analysis_report", "rerender_report", "summary_rows"]

MANIFEST = "manifest.json"
EXPOSURE = "model/exposure.csv"


@dataclass(frozen=True)
class ReportRun:
    """A rendered report: ``paths`` maps kinds (``report``, ``rtf:<table>``, ``png:<figure>``, ...)
    to files in ``out``."""

    out: Path
    paths: Mapping[str, Path]

    @property
    def report(self) -> Path:
        return self.paths["report"]

    @property
    def n_tables(self) -> int:
        return sum(k.startswith("rtf:") for k in self.paths)

    @property
    def n_figures(self) -> int:
        return sum(k.startswith("png:") for k in self.paths)


def frames(datasets: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Name (lower case) -> frame, from readers' :class:`dermsim.io.Dataset` objects or frames."""
    out = {}
    for name, value in datasets.items():
        frame = value if isinstance(value, pd.DataFrame) else getattr(value, "data", None)
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInputError(f"dataset {name}: the reader returned {type(value).__name__}, "
                                    "not a data frame.")
        out[str(name).lower()] = frame
    return out


def _design_rows(design: TrialDesign, n: int | None = None) -> tuple[tuple[str, str], ...]:
    """The design block of the report; ``n`` is the number of subjects this run actually has (a run
    with ``--n`` differs from the design's planned total, and the header must show the actual N)."""
    arms = "; ".join(f"{a.label} (ratio {a.ratio})" for a in design.arms)
    strata = ", ".join(f.name for f in design.stratification.factors) or "none"
    visits = ", ".join(v.name for v in design.schedule.visits)
    ext = design.extension
    rows = [
        ("Scenario", f"{design.id}: {design.title}"),
        ("Study ID", design.studyid),
        ("Population", design.population),
        (
            "N (subjects randomized)",
            str(design.n_total) if n is None or n == design.n_total else f"{n} (design: {design.n_total})",
        ),
        ("Arms", arms),
        ("Randomization", f"stratified permuted blocks of {design.stratification.block_size} by {strata}"),
        ("Vehicle-controlled period", f"day 1 to day {design.schedule.vc_end_day}"),
        ("Visits", visits),
        (
            "Extension",
            "none"
            if ext is None
            else f"to day {design.schedule.study_end_day}; "
            f"re-randomized: {', '.join(ext.rerandomize_from) or 'none'}",
        ),
        ("Primary endpoint", "IGA treatment success (IGA 0/1 and >= 2-grade improvement) at Week 8"),
        ("Key secondary endpoints", "EASI-75 at Week 8; itch NRS4 at Week 8 (baseline NRS >= 4)"),
    ]
    return tuple(rows)


def _threshold_nM() -> float:
    """The myelosuppression reference threshold (281 nM) from the evidence library."""
    from dermsim.evidence import load_evidence

    return float(load_evidence().pharmacology.topical["myelosuppression_threshold_nM"].number)


def _prereg(posterior_version: str | None) -> pd.DataFrame | None:
    """The pre-registered TRuE-AD3 intervals, only if made from the posterior this run used: an
    interval from another model version says nothing about this run."""
    from dermsim.calibration.validate import default_prereg_path

    path = default_prereg_path()
    if not path.is_file() or not posterior_version:
        return None
    df = pd.read_csv(path, dtype={"posterior_version": str})
    df = df[df["posterior_version"] == posterior_version]
    return df if len(df) else None


def _data_links(root: Path, report_dir: Path) -> tuple[tuple[str, str], ...]:
    """(label, href) of the run's data files under ``root``, relative to the report's folder."""

    def href(p: Path) -> str:
        return Path(os.path.relpath(p, report_dir)).as_posix()

    links = []
    for sub, label in (("adam", "ADaM"), ("sdtm", "SDTM-like")):
        for p in sorted((root / sub).glob("*")) if (root / sub).is_dir() else []:
            if p.suffix in (".xpt", ".json", ".xml"):
                links.append((f"{label}: {p.name}", href(p)))
    for name, label in (
        ("ard.csv", "Analysis results data (ARD), CSV"),
        ("ard.parquet", "ARD, Parquet"),
        ("ard_meta.json", "ARD metadata (plan, seed, inputs)"),
        ("ard_ars.json", "ARD as a CDISC Analysis Results Standard reporting event (JSON)"),
        ("ard_cards.csv", "ARD in the long format of the R cards package"),
        ("define.json", "Dataset definitions (define.json)"),
        (MANIFEST, "Run manifest"),
        (EXPOSURE, "Model exposure (Css per virtual patient)"),
        ("replicates/ard.csv", "ARD of the replicate trials"),
        ("replicates/summary/ard.csv", "ARD summary over the replicate trials"),
    ):
        if (root / name).is_file():
            links.append((label, href(root / name)))
    return tuple(links)


def run_report_context(
    manifest: Mapping[str, Any],
    ard: pd.DataFrame,
    exposure: pd.DataFrame | None,
    out: Path,
    model: bool = True,
    data_dir: Path | None = None,
    listings: tuple[Any, ...] = (),
    design: TrialDesign | None = None,
) -> ReportContext:
    """The report context of a run (``design``: the run's design; else the built-in one its
    manifest names)."""
    from dermsim.calibration.validate import default_validation_csv

    if design is None and manifest.get("design"):  # a user's design, kept by the run
        design = TrialDesign.from_dict(manifest["design"], file="manifest.json")
    elif design is None and manifest.get("scenario"):
        design = load_design(manifest["scenario"])
    links = _data_links(data_dir or out, out)
    if not model or design is None:
        return ReportContext(
            title=manifest.get("title") or "Analysis report",
            data_links=links,
            design=_design_rows(design, manifest.get("n_subjects")) if design is not None else (),
            listings=listings,
        )
    strengths = {a.label: a.strength_pct for a in design.arms}
    comparison = compare_with_published(
        ard, design.id, strengths, prereg=_prereg(manifest.get("posterior_version"))
    )
    prov = (
        ("Model version", manifest.get("code_version", __version__)),
        ("Parameters", str(manifest.get("parameters"))),
        ("Posterior version", str(manifest.get("posterior_version") or "none")),
        ("Posterior file SHA-256", str(manifest.get("posterior_sha256") or "none")),
        ("Seed", str(manifest.get("seed"))),
        ("Replicate trials", str(manifest.get("n_replicates", 1))),
        ("Analysis plan", str(manifest.get("plan"))),
    )
    notes = []
    fitted = manifest.get("calibration_trials") or []
    if manifest.get("posterior_version") and design.id not in fitted:
        notes.append(
            f"The posterior was fitted to targets from {', '.join(fitted) or 'other data'}; no "
            f"{design.id} outcome was used, so the comparison with the published trial is a held-out "
            "prediction."
        )
    if not manifest.get("posterior_version"):
        notes.append(
            "No calibrated posterior was available: this run used the model's default (uncalibrated) "
            "parameters, so its agreement with the published trial is not a validation result."
        )
    return ReportContext(
        title=f"{design.title}: virtual trial report",
        design=_design_rows(design, manifest.get("n_subjects")),
        data_links=links,
        listings=listings,
        model=ModelSection(
            provenance=prov,
            exposure=exposure,
            threshold_nM=_threshold_nM(),
            comparison=comparison,
            validation=collect_validation_points(default_validation_csv()),
            notes=tuple(notes),
        ),
    )


def report_ard(ard: pd.DataFrame, folder: Path | None) -> pd.DataFrame:
    """The ARD the report renders: the trial's, plus the replicate summary when the run has one."""
    path = folder / "replicates" / "summary" / "ard.csv" if folder is not None else None
    return pd.concat([ard, read_ard(path)], ignore_index=True) if path is not None and path.is_file() else ard


def _read_run(source: Path) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame | None, Path | None]:
    if source.is_dir():
        ard_path = next((source / n for n in ("ard.parquet", "ard.csv") if (source / n).is_file()), None)
        if ard_path is None:
            raise InvalidInputError(f"ARD_OR_RUN_DIR must hold ard.csv or ard.parquet; got {source}.")
        manifest = json.loads((source / MANIFEST).read_text()) if (source / MANIFEST).is_file() else {}
        exposure = pd.read_csv(source / EXPOSURE) if (source / EXPOSURE).is_file() else None
        return read_ard(ard_path), manifest, exposure, source
    if source.is_file():
        return read_ard(source), {}, None, None
    raise InvalidInputError(f"ARD_OR_RUN_DIR must be a run folder or an ARD file; got {source}.")


def _listings_of(run_dir: Path | None) -> tuple[Any, ...]:
    """Listings from the run's ADaM files, when the folder has them."""
    from dermsim.io import find_datasets, read_adam_dir

    adam = run_dir / "adam" if run_dir is not None else None
    if adam is None or not adam.is_dir():
        return ()
    names = [n for n in {x.dataset for x in AD_LISTINGS} if n in find_datasets(adam)]
    return tuple(build_listings(frames(read_adam_dir(adam, sorted(names))))) if names else ()


def rerender_report(source: str | Path, out: str | Path, *, model: bool = True,
                    overwrite: bool = False) -> ReportRun:
    """Render the report again from an existing run folder or ARD file, without simulating; the
    report's data links point at the files of the run it was rendered from."""
    source, out = Path(source), Path(out)
    check_out(out, overwrite=overwrite)
    ard, manifest, exposure, run_dir = _read_run(source)
    with output_dir(out, overwrite=overwrite) as tmp:
        ctx = run_report_context(
            manifest,
            ard,
            exposure,
            tmp,
            model=model and bool(manifest.get("scenario")),
            data_dir=run_dir if run_dir is not None else source.parent,
            listings=_listings_of(run_dir),
        )
        ctx = dataclasses.replace(ctx, titles=_plan_titles(run_dir if run_dir is not None else source.parent))
        paths = render_report(report_ard(ard, run_dir), tmp, ctx)
        paths = {k: out / Path(v).relative_to(tmp) for k, v in paths.items()}
    return ReportRun(out, paths)


def render_analysis_report(
    ard: pd.DataFrame,
    out: Path,
    *,
    title: str,
    design: tuple[tuple[str, str], ...] = (),
    datasets: Mapping[str, pd.DataFrame] | None = None,
    titles: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """The report of an analysis of supplied ADaM data (``dermsim analyze --report``): the same tables
    and figures (and listings of ``datasets``), without the model sections; data links point at the
    files in ``out``."""
    listings = tuple(build_listings(dict(datasets))) if datasets else ()
    ctx = ReportContext(title=title, design=design, data_links=_data_links(out, out), listings=listings,
                        titles=dict(titles or {}))
    return render_report(ard, out, ctx)


def _plan_titles(folder: Path | None) -> dict[str, str]:
    """Analysis titles from the plan recorded beside an ARD (``ard_meta.json`` of dermsim analyze)."""
    meta = folder / "ard_meta.json" if folder is not None else None
    if meta is None or not meta.is_file():
        return {}
    try:
        plan = json.loads(meta.read_text(encoding="utf-8")).get("plan") or {}
    except (OSError, ValueError):
        return {}
    analyses = plan.get("analysis") or plan.get("analyses") or []
    return {str(a["id"]): str(a.get("title") or "") for a in analyses if "id" in a}


def summary_rows(ard: pd.DataFrame, comparison: pd.DataFrame | None) -> list[tuple[str, ...]]:
    """Week-8 primary and key secondary endpoints per arm, formatted by the tables' own cell
    formatter: (endpoint, arm, simulated % (95% CI), diff vs vehicle, p, published %)."""
    from dermsim.report.format import fmt_num
    from dermsim.report.published import ENDPOINT_ANALYSES
    from dermsim.report.tables import format_cell

    rows = []
    for endpoint, aid in ENDPOINT_ANALYSES.items():
        part = ard[ard["analysis_id"] == aid]
        for arm in dict.fromkeys(part.loc[part["comparator"] == "", "group_level"]):
            own = part[(part["group_level"] == arm) & (part["comparator"] == "")]
            vs = part[(part["group_level"] == arm) & (part["comparator"] != "")]
            st = dict(zip(own["stat_name"], own["stat_value"], strict=True))
            d = dict(zip(vs["stat_name"], vs["stat_value"], strict=True))
            pub = ""
            if comparison is not None and len(comparison):
                m = comparison[(comparison["analysis_id"] == aid) & (comparison["arm"] == arm)]
                if len(m):
                    r = m.iloc[0]
                    v = r["published_pct"]
                    pub = fmt_num(v, 1) if pd.notna(v) else f"({r['status']})"
            rows.append((endpoint, str(arm), format_cell("prop_ci_pct", st), format_cell("diff_ci_pct", d),
                         format_cell("p", d), pub))
    return rows


SUMMARY_COLUMNS = ("Endpoint", "Arm", "Simulated, % (95% CI)", "Diff vs vehicle, % (95% CI)", "p",
                   "Published, %")
