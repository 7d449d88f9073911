"""``dermsim run SCENARIO --out DIR``: simulate -> ADaM -> analysis -> report, and ``dermsim report``.

``run`` conducts the virtual trial with the calibrated model (the shipped posterior's weighted
median parameters when a posterior file is present, else the model's default parameters, and the
report says which), writes the SDTM-like and ADaM datasets (XPT v5 and Dataset-JSON), runs the
built-in AD analysis plan on the datasets as written, and renders the tables (RTF, HTML), figures
and ``report.html``. ``DIR`` is built in a temporary sibling and swapped in at the end: a failed
run leaves the previous folder, never half of one. ``report`` renders the same report again from
an existing run folder or ARD file, without simulating.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from dermsim import __version__
from dermsim._atomic import atomic_dir, atomic_path
from dermsim._rng import as_seed_sequence, child_sequence
from dermsim.cli import app
from dermsim.errors import DermsimError, InvalidInputError

RUN_FORMATS = ("xpt", "json")
MANIFEST = "manifest.json"
EXPOSURE = "model/exposure.csv"
# spawn key under the run seed for replicate trials 1..R-1 (replicate 0 is the run itself)
_REPLICATE_KEY = 0x52455053
_REPLICATE_ANALYSES = ("iga-ts-w8", "easi75-w8", "nrs4-w8")


# ---- the model behind the run ----------------------------------------------------------------------


def _posterior() -> tuple[Any, dict[str, Any]]:
    """(Posterior or None, provenance record). A missing posterior file is not an error: the run
    then uses the model's default parameters and says so."""
    try:
        from dermsim.calibration.posterior import default_posterior, default_posterior_path
        from dermsim.calibration.targets import hash_file

        post = default_posterior()
        path = default_posterior_path()
        return post, {
            "posterior_version": post.version,
            "posterior_sha256": hash_file(path),
            "posterior_file": path.name,
            "posterior_draws": post.n,
            "posterior_ess": float(post.ess),
            "parameters": "posterior weighted median",
            "calibration_trials": sorted(
                {str(t.get("trial")) for t in post.meta.get("targets", []) if t.get("trial")}
            ),
        }
    except (DermsimError, ImportError, OSError) as exc:
        why = "no posterior file is shipped" if "does not exist" in str(exc) else str(exc).rstrip(".")
        return None, {
            "posterior_version": None,
            "posterior_sha256": None,
            "parameters": f"model default parameters (no calibrated posterior: {why})",
        }


class _ExposureRecorder:
    """``simulate_patients`` with the run's parameters, keeping each treatment group's per-patient
    average steady-state plasma concentration.

    The trial keeps no plasma samples (there is no PC domain), so the exposure figure reads the
    model's Css of the very patients the trial simulated. ``simulate_trial`` calls the provider
    once per (arm, adherence group) for the vehicle-controlled period and again with the same
    population object for an extension arm; the second call is the extension and is not recorded.
    """

    def __init__(self, params: Any) -> None:
        self.params = params
        self._seen: list[Any] = []
        self.parts: list[pd.DataFrame] = []

    def __call__(self, population: Any, regimen: Any, days: int, seed: Any, **kw: Any) -> Any:
        from dermsim.model.simulate import simulate_patients

        if self.params is not None:
            kw.setdefault("params", self.params)
        traj = simulate_patients(population, regimen, days, seed, **kw)
        if not any(p is population for p in self._seen):
            self._seen.append(population)
            css = np.asarray(traj.baseline["css_nM"], dtype=float)
            self.parts.append(
                pd.DataFrame(
                    {
                        "arm": regimen.name,
                        "strength_pct": regimen.strength_pct,
                        "adherence": regimen.adherence,
                        "css_nM": css,
                    }
                )
            )
        return traj

    def frame(self, arm_order: list[str]) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["arm", "strength_pct", "adherence", "css_nM"])
        df = pd.concat(self.parts, ignore_index=True)
        df["_o"] = df["arm"].map({a: i for i, a in enumerate(arm_order)})
        return df.sort_values(["_o", "adherence"], kind="stable").drop(columns="_o").reset_index(drop=True)


# ---- report context --------------------------------------------------------------------------------


def _design_rows(design: Any, n: int | None = None) -> tuple[tuple[str, str], ...]:
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
    try:
        from dermsim.calibration.validate import default_prereg_path
    except ImportError:
        return None
    path = default_prereg_path()
    if not path.is_file() or not posterior_version:
        return None
    df = pd.read_csv(path, dtype={"posterior_version": str})
    df = df[df["posterior_version"] == posterior_version]
    return df if len(df) else None


def _validation_csv() -> Path | None:
    root = Path(__file__).resolve().parents[3] / "validation"
    hits = sorted(root.glob("**/validation.csv")) if root.is_dir() else []
    return hits[0] if hits else None


def _context(
    manifest: dict[str, Any],
    ard: pd.DataFrame,
    exposure: pd.DataFrame | None,
    out: Path,
    model: bool = True,
    data_dir: Path | None = None,
    listings: tuple[Any, ...] = (),
) -> Any:
    from dermsim.report.html_report import ModelSection, ReportContext
    from dermsim.report.published import collect_validation_points, compare_with_published

    design = None
    if manifest.get("scenario"):
        from dermsim.trial import load_design

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
            validation=collect_validation_points(_validation_csv()),
            notes=tuple(notes),
        ),
    )


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


# ---- pipeline -------------------------------------------------------------------------------------


def _frames(datasets: dict[str, Any]) -> dict[str, pd.DataFrame]:
    return {k.lower(): (v.data if hasattr(v, "data") else v) for k, v in datasets.items()}


def _replicates(
    design: Any,
    seed: int,
    n_replicates: int,
    plan: Any,
    params: Any,
    advance: Callable[[], None],
    n: int | None = None,
) -> pd.DataFrame:
    """ARD rows of the primary and key secondary analyses for replicate trials 1..R-1 (each from its
    own child stream of the run seed, vehicle-controlled period only), with a leading ``replicate``
    column."""
    from dermsim.analysis.run import run_plan
    from dermsim.cli.trial import build_trial_datasets
    from dermsim.trial import simulate_trial

    sub = plan.select([a for a in _REPLICATE_ANALYSES if a in plan.ids])
    parts = []
    for r in range(1, n_replicates):
        seq = child_sequence(seed, _REPLICATE_KEY, r)
        study = simulate_trial(
            design, seq, n=n, extension=False, trajectory_provider=_ExposureRecorder(params)
        )
        _, adam = build_trial_datasets(study)
        ard = run_plan(sub, _frames(adam), seed=child_sequence(seq, 1))
        ard.insert(0, "replicate", r)
        parts.append(ard)
        advance()
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _replicate_summary(ard: pd.DataFrame, rep: pd.DataFrame) -> pd.DataFrame:
    """ARD rows (analysis ``replicates-w8``) summarising each arm's response rate, the difference vs
    the control and the share of trials with p < 0.05 over all R trials (the reported one is
    replicate 0); the statistics are :func:`dermsim.analysis.descriptive.estimate_summary_by_group`."""
    from dermsim.analysis.ard import ArdContext, frame_from_rows, make_rows, validate_ard
    from dermsim.analysis.descriptive import estimate_summary_by_group

    both = pd.concat([ard.assign(replicate=0), rep], ignore_index=True)
    rows: list[dict[str, object]] = []
    for aid in _REPLICATE_ANALYSES:
        part = both[both["analysis_id"] == aid]
        if part.empty:
            continue
        first = part.iloc[0]
        ctx = ArdContext(
            "replicates-w8",
            str(first["dataset"]),
            str(first["population"]),
            str(first["parameter"]),
            "",
            str(first["group"]),
            "replicate_summary",
        )
        own = part[(part["comparator"] == "") & (part["stat_name"] == "estimate")]
        arms = list(dict.fromkeys(own["group_level"]))
        for s in estimate_summary_by_group(100 * own["stat_value"], own["group_level"], group_levels=arms):
            rows += make_rows(ctx, dict(s.to_ard_rows()), variable="rate_pct", group_level=s.group_level)
        vs = part[part["comparator"] != ""]
        control = str(vs["comparator"].iloc[0]) if len(vs) else ""
        for var, values in (
            ("diff_pct", 100 * vs.loc[vs["stat_name"] == "estimate", "stat_value"]),
            ("p_lt_005_pct", 100 * (vs.loc[vs["stat_name"] == "p_value", "stat_value"] < 0.05)),
        ):
            groups = vs.loc[values.index, "group_level"]
            levels = [a for a in arms if a in set(groups)]
            for s in estimate_summary_by_group(values.astype(float), groups, group_levels=levels):
                rows += make_rows(
                    ctx, dict(s.to_ard_rows()), variable=var, group_level=s.group_level, comparator=control
                )
    return validate_ard(frame_from_rows(rows))


def run_scenario(
    scenario: str,
    out: Path,
    seed: int,
    n_replicates: int = 1,
    console: Console | None = None,
    n: int | None = None,
) -> dict[str, Any]:
    """The whole job; returns the manifest (also written to ``out/manifest.json``)."""
    from dermsim.analysis.plan import default_plan_path, load_plan
    from dermsim.analysis.run import run_plan
    from dermsim.calibration.posterior import code_version
    from dermsim.cli.trial import write_trial_dir
    from dermsim.io import read_adam_dir
    from dermsim.io.ard import write_ard
    from dermsim.io.ars import write_ars
    from dermsim.io.cards import write_cards
    from dermsim.report.html_report import render_report
    from dermsim.report.listings import build_listings
    from dermsim.trial import load_design, simulate_trial

    as_seed_sequence(seed)
    if n_replicates < 1:
        raise InvalidInputError(f"--n-replicates must be an integer >= 1; got {n_replicates}.")
    console = console or Console(stderr=True)
    design = load_design(scenario)
    plan_path = default_plan_path()
    plan = load_plan(plan_path)
    post, prov = _posterior()
    params = post.parameter_set() if post is not None else None
    timings: dict[str, float] = {}
    stages = ["simulate", "ADaM", "analysis", "report"] + (["replicates"] if n_replicates > 1 else [])
    with (
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<34}"),
            BarColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as bar,
        atomic_dir(out) as tmp,
    ):
        tasks = {
            s: bar.add_task(s, total=1 if s != "replicates" else n_replicates - 1, info="", start=False)
            for s in stages
        }

        def stage(name: str, info: str, t0: float) -> None:
            timings[name] = time.perf_counter() - t0
            bar.update(tasks[name], completed=bar.tasks[tasks[name]].total, info=info)

        t0 = time.perf_counter()
        bar.start_task(tasks["simulate"])
        bar.update(tasks["simulate"], description=f"simulate {design.id} (N={n or design.n_total})")
        recorder = _ExposureRecorder(params)
        study = simulate_trial(design, seed, n=n, trajectory_provider=recorder)
        stage("simulate", f"{study.n_subjects} subjects", t0)

        t0 = time.perf_counter()
        bar.start_task(tasks["ADaM"])
        bar.update(tasks["ADaM"], description="ADaM (XPT v5, Dataset-JSON)")
        write_trial_dir(study, tmp, list(RUN_FORMATS))  # fills the (empty) temporary run folder
        exposure = recorder.frame([a.label for a in design.arms])
        (tmp / "model").mkdir(exist_ok=True)
        exposure.to_csv(tmp / EXPOSURE, index=False, float_format="%.10g")
        stage("ADaM", "sdtm/, adam/, define.json, define.xml", t0)

        t0 = time.perf_counter()
        bar.start_task(tasks["analysis"])
        bar.update(tasks["analysis"], description=f"analysis ({plan.name}, {len(plan.analyses)} analyses)")
        names = sorted({a.dataset for a in plan.analyses} | {"adsl"})
        datasets = _frames(read_adam_dir(tmp / "adam", names))  # the datasets as written
        ard = run_plan(plan, datasets, seed=seed)
        write_ard(ard, tmp, tables=False)
        titles = {a.id: a.title for a in plan.analyses if a.title}
        write_ars(ard, tmp / "ard_ars.json", name=plan.name, titles=titles, description=plan.description)
        write_cards(ard, tmp / "ard_cards.csv")
        stage("analysis", f"{len(ard)} ARD rows", t0)

        if n_replicates > 1:
            t0 = time.perf_counter()
            bar.start_task(tasks["replicates"])
            bar.update(tasks["replicates"], description=f"replicate trials 2..{n_replicates}")
            rep = _replicates(
                design, seed, n_replicates, plan, params, lambda: bar.advance(tasks["replicates"]), n=n
            )
            (tmp / "replicates").mkdir(exist_ok=True)
            with atomic_path(tmp / "replicates" / "ard.csv") as p:
                rep.to_csv(p, index=False, float_format="%.17g")
            write_ard(_replicate_summary(ard, rep), tmp / "replicates" / "summary", tables=False)
            stage("replicates", f"{n_replicates - 1} more trials", t0)

        manifest = {
            "scenario": design.id,
            "title": design.title,
            "seed": seed,
            "n_replicates": n_replicates,
            "dermsim_version": __version__,
            "code_version": code_version(),
            "plan": plan.name,
            "formats": list(RUN_FORMATS),
            "n_subjects": study.n_subjects,
            "seed_record": study.seed,
            **prov,
        }
        with atomic_path(tmp / MANIFEST) as p:
            p.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")

        t0 = time.perf_counter()
        bar.start_task(tasks["report"])
        bar.update(tasks["report"], description="report (RTF, figures, HTML)")
        ctx = _context(manifest, ard, exposure, tmp, listings=tuple(build_listings(datasets)))
        paths = render_report(_report_ard(ard, tmp), tmp, ctx)
        stage(
            "report",
            f"{sum(k.startswith('rtf:') for k in paths)} tables, "
            f"{sum(k.startswith('png:') for k in paths)} figures",
            t0,
        )
    manifest["_timings_s"] = timings
    manifest["_ard"] = ard
    manifest["_comparison"] = ctx.model.comparison if ctx.model is not None else None
    return manifest


def _summary_table(ard: pd.DataFrame, comparison: pd.DataFrame | None) -> Table:
    """Primary and key secondary endpoints per arm, formatted by the tables' own cell formatter."""
    from dermsim.report.format import fmt_num
    from dermsim.report.published import ENDPOINT_ANALYSES
    from dermsim.report.tables import format_cell

    table = Table(title="Week 8: simulated and published", title_justify="left")
    cols = ("Endpoint", "Arm", "Simulated, % (95% CI)", "Diff vs vehicle, % (95% CI)", "p", "Published, %")
    for col in cols:
        table.add_column(col, justify="left" if col in ("Endpoint", "Arm") else "right")
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
            table.add_row(
                endpoint,
                arm,
                format_cell("prop_ci_pct", st),
                format_cell("diff_ci_pct", d),
                format_cell("p", d),
                pub,
            )
    return table


@app.command("run")
def run_cmd(
    scenario: str = typer.Argument(
        ..., help="Built-in scenario (true-ad1, true-ad2, true-ad3) or a design .toml."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (replaced as a whole, atomically)."),
    seed: int = typer.Option(1, "--seed", help="Random seed (integer >= 0)."),
    n_replicates: int = typer.Option(
        1,
        "--n-replicates",
        help="Virtual trials to run; the first is reported in "
        "full, the others add the primary and key secondary ARD rows.",
    ),
    n: int | None = typer.Option(None, "--n", help="Number of subjects (default: the design's n_total)."),
) -> None:
    """Simulate a virtual trial, derive ADaM, analyse it and write the TLFs and report.html."""
    t0 = time.perf_counter()
    manifest = run_scenario(scenario, out, seed, n_replicates, n=n)
    console = Console(width=None if sys.stdout.isatty() else 132)
    console.print(_summary_table(manifest["_ard"], manifest["_comparison"]))
    if not manifest.get("posterior_version"):
        console.print(
            "[yellow]note:[/] no calibrated posterior available; the model's default parameters were used."
        )
    console.print(
        f"report: {out / 'report.html'}  (tables in {out / 'tlf'}, figures in {out / 'figures'}, "
        f"ADaM in {out / 'adam'}; {time.perf_counter() - t0:.1f} s)"
    )


def _report_ard(ard: pd.DataFrame, folder: Path | None) -> pd.DataFrame:
    """The ARD the report renders: the trial's, plus the replicate summary when the run has one."""
    from dermsim.io.ard import read_ard

    path = folder / "replicates" / "summary" / "ard.csv" if folder is not None else None
    return pd.concat([ard, read_ard(path)], ignore_index=True) if path is not None and path.is_file() else ard


def _read_run(source: Path) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame | None, Path | None]:
    from dermsim.io.ard import read_ard

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


@app.command("report")
def report_cmd(
    source: Path = typer.Argument(..., help="A run folder (from dermsim run or analyze) or an ARD file."),
    out: Path = typer.Option(..., "--out", help="Output folder for report.html, tlf/ and figures/."),
    model: bool = typer.Option(
        True, "--model/--no-model", help="Include the model sections when the run has them."
    ),
) -> None:
    """Render the report again from an existing run or ARD, without simulating."""
    ard, manifest, exposure, run_dir = _read_run(source)
    out.mkdir(parents=True, exist_ok=True)
    # links in the report point at the data files of the run it was rendered from
    ctx = _context(
        manifest,
        ard,
        exposure,
        out,
        model=model and bool(manifest.get("scenario")),
        data_dir=run_dir if run_dir is not None else source.parent,
        listings=_listings_of(run_dir),
    )
    ctx = dataclasses.replace(ctx, titles=_plan_titles(run_dir if run_dir is not None else source.parent))
    paths = _render(_report_ard(ard, run_dir), out, ctx)
    typer.echo(
        f"report: {paths['report']} ({sum(k.startswith('rtf:') for k in paths)} RTF tables, "
        f"{sum(k.startswith('png:') for k in paths)} figures)"
    )


def _listings_of(run_dir: Path | None) -> tuple[Any, ...]:
    """Listings from the run's ADaM files, when the folder has them."""
    from dermsim.io import find_datasets, read_adam_dir
    from dermsim.report.listings import AD_LISTINGS, build_listings

    adam = run_dir / "adam" if run_dir is not None else None
    if adam is None or not adam.is_dir():
        return ()
    names = [n for n in {x.dataset for x in AD_LISTINGS} if n in find_datasets(adam)]
    return tuple(build_listings(_frames(read_adam_dir(adam, sorted(names))))) if names else ()


def _render(ard: pd.DataFrame, out: Path, ctx: Any) -> dict[str, Path]:
    from dermsim.report.html_report import render_report

    return render_report(ard, out, ctx)


def render_analysis_report(
    ard: pd.DataFrame,
    out: Path,
    *,
    title: str,
    design: tuple[tuple[str, str], ...] = (),
    datasets: dict[str, pd.DataFrame] | None = None,
    titles: dict[str, str] | None = None,
) -> dict[str, Path]:
    """The report of an analysis of supplied ADaM data (``dermsim analyze --report``): the same tables
    and figures (and listings of ``datasets``), without the model sections; data links point at the
    files in ``out``."""
    from dermsim.report.html_report import ReportContext
    from dermsim.report.listings import build_listings

    listings = tuple(build_listings(datasets)) if datasets else ()
    ctx = ReportContext(title=title, design=design, data_links=_data_links(out, out), listings=listings,
                        titles=titles or {})
    return _render(ard, out, ctx)


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
