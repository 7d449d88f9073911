"""Virtual trials: simulate a design into study files, and the whole run (simulate -> ADaM ->
analysis -> report), and the report rendered again from a run.

``run_virtual_trial`` conducts the trial with the model :func:`resolve_model` chooses (the shipped
posterior's weighted median by default, else the model's parameter files, and the report says
which), writes the SDTM-like and ADaM datasets (XPT v5 and Dataset-JSON), runs the built-in AD
analysis plan on the datasets as written, and renders the tables (RTF, HTML), figures and
``report.html``. The run folder is built in a staging folder (:mod:`dermsim.workflows.outputs`):
a failed or cancelled run leaves ``out`` as it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim import __version__
from dermsim._atomic import atomic_path
from dermsim._rng import as_seed_sequence, child_sequence
from dermsim._validate import LIMITS, check_int
from dermsim.analysis.plan import AnalysisPlan, default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.errors import InvalidInputError
from dermsim.io import read_adam_dir
from dermsim.io.ard import write_ard
from dermsim.io.ars import write_ars
from dermsim.io.cards import write_cards
from dermsim.io.study import STUDY_FORMATS, TRIAL_FORMATS, write_trial_dir
from dermsim.report.listings import build_listings
from dermsim.trial import StudyData, TrialDesign, load_design, simulate_trial
from dermsim.trial.scenarios import list_scenarios
from dermsim.workflows.model import ResolvedModel, resolve_model
from dermsim.workflows.outputs import check_out, output_dir
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel
from dermsim.workflows.report import (
    EXPOSURE,
    MANIFEST,
    frames,
    report_ard,
    run_report_context,
    summary_rows,
)

__all__ = ["RUN_FORMATS", "StudyRun", "TrialRun", "run_virtual_trial", "simulate_study"]

RUN_FORMATS = ("xpt", "json")
# spawn key under the run seed for replicate trials 1..R-1 (replicate 0 is the run itself)
_REPLICATE_KEY = 0x52455053
_REPLICATE_ANALYSES = ("iga-ts-w8", "easi75-w8", "nrs4-w8")


# ---- dermsim trial simulate ------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyRun:
    """One simulated trial written as study files."""

    design: TrialDesign
    study: StudyData
    out: Path
    formats: tuple[str, ...]
    model: ResolvedModel

    def arm_counts(self) -> dict[str, int]:
        """Subjects per arm label, in the design's arm order."""
        counts = self.study.dm["ARM"].value_counts()
        return {a.label: int(counts.get(a.label, 0)) for a in self.design.arms}


def parse_formats(text: str | list[str] | tuple[str, ...], allowed: tuple[str, ...] = STUDY_FORMATS,
                  option: str = "--format") -> tuple[str, ...]:
    """``"xpt,json"`` -> ("xpt", "json"), each one of ``allowed``."""
    items = [f.strip().lower() for f in (text.split(",") if isinstance(text, str) else text) if f.strip()]
    if not items or any(f not in allowed for f in items):
        shown = text if isinstance(text, str) else ",".join(text)
        raise InvalidInputError(f"{option} must list {', '.join(allowed[:-1])} and/or {allowed[-1]}; "
                                f"got {shown!r}.")
    return tuple(items)


def simulate_study(
    design: str | Path | TrialDesign,
    seed: int,
    out: str | Path,
    *,
    formats: str | tuple[str, ...] = STUDY_FORMATS,
    n: int | None = None,
    extension: bool = True,
    chunk_size: int = 16_384,
    posterior: str | Path = "shipped",
    overwrite: bool = False,
) -> StudyRun:
    """Simulate a virtual trial and write ``out/sdtm``, ``out/adam`` and ``out/define.json`` in the
    dataset formats among ``formats``; ``nonmem`` among them adds ``out/nonmem/`` (NONMEM/Monolix
    dataset with its data dictionary, :mod:`dermsim.cdisc.nonmem`)."""
    fmts = parse_formats(formats, TRIAL_FORMATS)
    out = Path(out)
    if n is not None:
        check_int("--n", n, minimum=1, maximum=LIMITS["subjects"])
    check_out(out, overwrite=overwrite)
    d = design if isinstance(design, TrialDesign) else load_design(design)
    model = resolve_model(posterior)
    study = simulate_trial(d, seed, n=n, extension=extension, chunk_size=chunk_size, params=model.parameters)
    with output_dir(out, overwrite=overwrite) as tmp:
        write_trial_dir(study, tmp, list(fmts))
    return StudyRun(d, study, out, fmts, model)


# ---- dermsim run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrialRun:
    """The result of :func:`run_virtual_trial`. Paths point into ``out`` (the finished folder)."""

    out: Path
    design: TrialDesign
    study: StudyData
    model: ResolvedModel
    plan: AnalysisPlan
    adam: Mapping[str, pd.DataFrame]           # the ADaM datasets as written and read back
    ard: pd.DataFrame
    replicate_ard: pd.DataFrame | None
    comparison: pd.DataFrame | None            # simulated vs published (None without the model)
    report_paths: Mapping[str, Path]
    manifest: Mapping[str, Any]                # as written to out/manifest.json
    timings_s: Mapping[str, float] = field(default_factory=dict)

    @property
    def exposure(self) -> pd.DataFrame | None:
        return self.study.exposure

    @property
    def report(self) -> Path:
        return self.out / "report.html"

    def summary_rows(self) -> list[tuple[str, ...]]:
        """Week-8 primary and key secondary endpoints per arm, formatted (see
        :func:`dermsim.workflows.report.summary_rows`)."""
        return summary_rows(self.ard, self.comparison)


def _replicates(design: TrialDesign, seed: int, n_replicates: int, plan: AnalysisPlan, params: Any,
                progress: Progress, cancel: CancelToken | None, n: int | None = None) -> pd.DataFrame:
    """ARD rows of the primary and key secondary analyses for replicate trials 1..R-1 (each from its
    own child stream of the run seed, vehicle-controlled period only), with a leading ``replicate``
    column."""
    from dermsim.io.study import build_trial_datasets

    sub = plan.select([a for a in _REPLICATE_ANALYSES if a in plan.ids])
    parts = []
    for r in range(1, n_replicates):
        check_cancel(cancel)
        seq = child_sequence(seed, _REPLICATE_KEY, r)
        study = simulate_trial(design, seq, n=n, extension=False, params=params)
        _, adam = build_trial_datasets(study)
        ard = run_plan(sub, frames(adam), seed=child_sequence(seq, 1),
                       group_levels=[a.label for a in design.arms], absent_not_estimable=True)
        ard.insert(0, "replicate", r)
        parts.append(ard)
        progress.advance(1)
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


def _is_builtin(scenario: str | Path) -> bool:
    return isinstance(scenario, str) and scenario in list_scenarios()


def run_virtual_trial(
    scenario: str | Path,
    out: str | Path,
    seed: int = 1,
    *,
    n_replicates: int = 1,
    n: int | None = None,
    posterior: str | Path = "shipped",
    overwrite: bool = False,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
) -> TrialRun:
    """Simulate ``scenario`` (a built-in id or a design TOML), derive ADaM, analyse and report into
    ``out``. ``cancel`` is checked between stages and replicate trials."""
    from dermsim.calibration.posterior import code_version
    from dermsim.report.html_report import render_report

    out = Path(out)
    as_seed_sequence(seed)
    # every size is checked before anything runs (an upper bound: a typo must not run for hours)
    check_int("--n-replicates", n_replicates, minimum=1, maximum=LIMITS["replicates"])
    if n is not None:
        check_int("--n", n, minimum=1, maximum=LIMITS["subjects"])
    check_out(out, overwrite=overwrite)
    design = load_design(scenario)
    plan = load_plan(default_plan_path())
    model = resolve_model(posterior)
    params = model.parameters
    timings: dict[str, float] = {}

    def stage(name: str, info: str, t0: float) -> None:
        timings[name] = time.perf_counter() - t0
        progress.done(info)
        check_cancel(cancel)

    check_cancel(cancel)
    with output_dir(out, overwrite=overwrite) as tmp:
        t0 = time.perf_counter()
        progress.start(1, f"simulate {design.id} (N={n or design.n_total})")
        study = simulate_trial(design, seed, n=n, params=params)
        stage("simulate", f"{study.n_subjects} subjects", t0)

        t0 = time.perf_counter()
        progress.start(1, "ADaM (XPT v5, Dataset-JSON)")
        write_trial_dir(study, tmp, list(RUN_FORMATS))  # fills the (empty) staging folder
        exposure = study.exposure
        (tmp / "model").mkdir(exist_ok=True)
        exposure.to_csv(tmp / EXPOSURE, index=False, float_format="%.10g")
        stage("ADaM", "sdtm/, adam/, define.json, define.xml", t0)

        t0 = time.perf_counter()
        progress.start(1, f"analysis ({plan.name}, {len(plan.analyses)} analyses)")
        names = sorted({a.dataset for a in plan.analyses} | {"adsl"})
        datasets = frames(read_adam_dir(tmp / "adam", names))  # the datasets as written
        ard = run_plan(plan, datasets, seed=seed, group_levels=[a.label for a in design.arms],
                       absent_not_estimable=True)
        write_ard(ard, tmp, tables=False)
        titles = {a.id: a.title for a in plan.analyses if a.title}
        write_ars(ard, tmp / "ard_ars.json", name=plan.name, titles=titles, description=plan.description)
        write_cards(ard, tmp / "ard_cards.csv")
        stage("analysis", f"{len(ard)} ARD rows", t0)

        rep = None
        if n_replicates > 1:
            t0 = time.perf_counter()
            progress.start(n_replicates - 1, f"replicate trials 2..{n_replicates}")
            rep = _replicates(design, seed, n_replicates, plan, params, progress, cancel, n=n)
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
            **model.provenance(),
        }
        if design.id not in list_scenarios() or not _is_builtin(scenario):
            # a user's design: kept in the manifest so `dermsim report` can render the run again
            manifest["design"] = design.to_dict()
        with atomic_path(tmp / MANIFEST) as p:
            p.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")

        t0 = time.perf_counter()
        progress.start(1, "report (RTF, figures, HTML)")
        ctx = run_report_context(manifest, ard, exposure, tmp, listings=tuple(build_listings(datasets)),
                                design=design)
        paths = render_report(report_ard(ard, tmp), tmp, ctx)
        paths = {k: out / Path(v).relative_to(tmp) for k, v in paths.items()}
        timings["report"] = time.perf_counter() - t0
        progress.done(f"{sum(k.startswith('rtf:') for k in paths)} tables, "
                      f"{sum(k.startswith('png:') for k in paths)} figures")
    return TrialRun(
        out=out, design=design, study=study, model=model, plan=plan, adam=datasets, ard=ard,
        replicate_ard=rep, comparison=ctx.model.comparison if ctx.model is not None else None,
        report_paths=paths, manifest=manifest, timings_s=timings,
    )
