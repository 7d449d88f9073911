"""Analysis of ADaM data (a sponsor's or a virtual trial's): run a plan, write the ARD, quick-look
tables and optionally the report; and the dataset folder checks and conversion."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim import __version__
from dermsim._rng import seed_record
from dermsim.analysis.plan import AnalysisPlan, default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.cdisc.schemas import check_dataset, schema_for
from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.io import find_datasets, read_adam_dir, write_adam_dir
from dermsim.io.adam import cross_dataset_problems
from dermsim.io.ard import write_ard
from dermsim.io.ars import write_ars
from dermsim.io.cards import write_cards
from dermsim.workflows.outputs import check_out, output_dir
from dermsim.workflows.report import frames, render_analysis_report

__all__ = ["AdamCheck", "AdamFolderCheck", "AnalysisRun", "ConvertRun", "analyze_adam", "check_adam",
           "convert_adam", "load_analysis_plan"]


def load_analysis_plan(plan: str | Path | AnalysisPlan | None = None,
                       only: str | list[str] = "") -> AnalysisPlan:
    """The plan (a TOML file, a plan, or the built-in AD plan), restricted to the ``only`` analysis
    ids if given."""
    if isinstance(plan, AnalysisPlan):
        the_plan = plan
    else:
        the_plan = load_plan(plan if plan is not None else default_plan_path())
    ids = [i.strip() for i in (only.split(",") if isinstance(only, str) else only) if i.strip()]
    return the_plan.select(ids) if ids else the_plan


@dataclass(frozen=True)
class AnalysisRun:
    """The result of :func:`analyze_adam`; ``paths`` are the ARD files (``csv``, ``parquet``,
    ``meta``, ``table:<id>``), ``report_paths`` the report's (``report``, ``rtf:``, ``png:`` ...)."""

    out: Path
    plan: AnalysisPlan
    datasets: Mapping[str, pd.DataFrame]
    ard: pd.DataFrame
    paths: Mapping[str, Path]
    report_paths: Mapping[str, Path]       # empty without ``report``
    meta: Mapping[str, Any]
    seconds: float

    @property
    def n_tables(self) -> int:
        return sum(k.startswith("table:") for k in self.paths)


def analyze_adam(
    adam_dir: str | Path,
    out: str | Path,
    *,
    plan: str | Path | AnalysisPlan | None = None,
    only: str | list[str] = "",
    seed: int = 1,
    tables: bool = True,
    report: bool = False,
    overwrite: bool = False,
) -> AnalysisRun:
    """Read the ADaM datasets the plan uses from ``adam_dir`` (XPT, Dataset-JSON, Parquet, CSV(.gz)),
    run the plan and write ``out/ard.csv``, ``ard.parquet``, ``ard_meta.json``, quick-look tables
    in ``out/tables/`` and, with ``report``, ``report.html``, ``tlf/`` and ``figures/``."""
    t0 = time.perf_counter()
    adam_dir, out = Path(adam_dir), Path(out)
    if not adam_dir.is_dir():
        raise InvalidInputError(f"ADAM_DIR must be a folder with ADaM datasets; got {adam_dir}.")
    the_plan = load_analysis_plan(plan, only)
    check_out(out, overwrite=overwrite)
    names = sorted({a.dataset for a in the_plan.analyses} | {"adsl"})
    # read only what the plan uses; a dataset it names but the folder lacks is reported by run_plan
    # with the analysis that needs it
    present = [n for n in names if n in find_datasets(adam_dir)]
    read = read_adam_dir(adam_dir, present)
    datasets = frames(read)
    ard = run_plan(the_plan, datasets, seed=seed)
    titles = {a.id: a.title for a in the_plan.analyses if a.title}
    plan_source = ("built-in ad_default" if plan is None
                   else the_plan.name if isinstance(plan, AnalysisPlan) else str(plan))
    meta = {"dermsim_version": __version__, "seed": seed_record(seed), "plan": the_plan.to_dict(),
            "plan_source": plan_source,
            "adam_dir": str(adam_dir.resolve()), "rows": len(ard),
            "datasets": {k: {"path": str(getattr(v, "path", "") or ""), "format": getattr(v, "format", None),
                             "records": len(datasets[k])} for k, v in read.items()}}
    with output_dir(out, overwrite=overwrite) as tmp:
        paths = write_ard(ard, tmp, tables=tables, titles=titles, meta=meta)
        # the same results for other tools: CDISC ARS JSON and the R cards package's long format
        paths["ars"] = write_ars(ard, tmp / "ard_ars.json", name=the_plan.name, titles=titles,
                                 description=the_plan.description)
        paths["cards"] = write_cards(ard, tmp / "ard_cards.csv")
        rep: dict[str, Path] = {}
        if report:
            about = (("ADaM folder", str(adam_dir)), ("Analysis plan", the_plan.name))
            title = f"{the_plan.name}: analysis of {adam_dir.name}"
            rep = render_analysis_report(ard, tmp, title=title, design=about, datasets=datasets,
                                         titles=titles)
        paths = {k: out / Path(v).relative_to(tmp) for k, v in paths.items()}
        rep = {k: out / Path(v).relative_to(tmp) for k, v in rep.items()}
    return AnalysisRun(out, the_plan, datasets, ard, paths, rep, meta, time.perf_counter() - t0)


def _names(names: str | list[str] | None) -> list[str] | None:
    if names is None:
        return None
    items = [n.strip().lower() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    if not items:
        raise InvalidInputError(f"--datasets must name at least one dataset; got {names!r}.")
    return items


@dataclass(frozen=True)
class AdamCheck:
    """One checked dataset: (dataset, file, records, variables, label, schema verdict)."""

    dataset: str
    file: str
    records: int
    variables: int
    label: str
    schema: str


@dataclass(frozen=True)
class AdamFolderCheck:
    """What :func:`check_adam` found: one row per dataset, and notes on cross-dataset keys
    (subjects of ADAE/ADEFF/... missing from ADSL; an error under ``strict``)."""

    datasets: tuple[AdamCheck, ...]
    notes: tuple[str, ...]


def check_adam(adam_dir: str | Path, datasets: str | list[str] | None = None, *,
               strict: bool = False) -> AdamFolderCheck:
    """Read every dataset (or those named), check each against its ADaM schema (the first problem
    raises one clear error), check the subjects of every dataset against ADSL and list what was
    found."""
    read = read_adam_dir(Path(adam_dir), _names(datasets), check=False)
    rows = []
    for name, ds in read.items():
        sch = schema_for(name)
        check_dataset(name.upper(), ds.data, strict=strict)
        rows.append(AdamCheck(name.upper(), ds.path.name if ds.path else "", len(ds.data), ds.data.shape[1],
                              ds.meta.label,
                              f"{sch.structure} ok{' (strict)' if strict else ''}" if sch else "no schema"))
    problems = cross_dataset_problems(read)
    if problems and strict:
        raise DataValidationError(f"{adam_dir}: {problems[0]}; every subject must be in ADSL (--strict).")
    return AdamFolderCheck(tuple(rows), tuple(problems))


@dataclass(frozen=True)
class ConvertRun:
    out: Path
    formats: tuple[str, ...]
    paths: Mapping[str, Any]

    @property
    def n_files(self) -> int:
        return sum(len(v) for v in self.paths.values())


def convert_adam(adam_dir: str | Path, out: str | Path, *, formats: str = "xpt,json,parquet",
                 datasets: str | list[str] | None = None, overwrite: bool = False) -> ConvertRun:
    """Convert ADaM datasets between formats, with labels, lengths and a define.json."""
    adam_dir, out = Path(adam_dir), Path(out)
    if out.resolve() == adam_dir.resolve():
        raise InvalidInputError(f"--out must differ from ADAM_DIR; got {out} for both.")
    check_out(out, overwrite=overwrite)
    read = read_adam_dir(adam_dir, _names(datasets))
    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    with output_dir(out, overwrite=overwrite) as tmp:
        paths = write_adam_dir(read, tmp, formats=list(fmts))
    return ConvertRun(out, fmts, paths)
