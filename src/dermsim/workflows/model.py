"""The model behind every simulation: which parameters (:func:`resolve_model`), the annotated
parameter table, one virtual patient exported as SBML/Antimony, and daily trajectories of a
virtual population on a cream regimen."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dermsim._validate import check_choice, check_int, check_positive
from dermsim.calibration.posterior import POSTERIOR_CHOICE_HELP, ResolvedModel
from dermsim.calibration.posterior import resolve_model as _resolve_model
from dermsim.errors import InvalidInputError
from dermsim.model.parameters import GROUPS, ParameterSet, default_parameters, load_parameters
from dermsim.model.regimen import Regimen
from dermsim.model.simulate import DEFAULT_RECORD, RECORDABLE, Trajectories, simulate_patients
from dermsim.workflows.outputs import check_out, output_file
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel

__all__ = [
    "DEFAULT_RECORD",
    "GROUPS",
    "POSTERIOR_CHOICE_HELP",
    "RECORDABLE",
    "PatientExport",
    "ResolvedModel",
    "TrajectoryRun",
    "export_patient_model",
    "model_parameters",
    "parameters_from",
    "resolve_model",
    "simulate_course",
    "simulate_regimen",
]


def parameters_from(directory: str | Path | None) -> ParameterSet:
    """The package's parameters, or those in ``directory`` (validated: unit and source required)."""
    return default_parameters() if directory is None else load_parameters(directory)


def resolve_model(choice: str | Path = "shipped", *, params_dir: str | Path | None = None,
                  base: ParameterSet | None = None) -> ResolvedModel:
    """The model parameters for a ``--posterior`` choice ("shipped", "prior" or a posterior JSON file):
    the one rule, :func:`dermsim.calibration.posterior.resolve_model` (posterior hash checks and the
    fallback to the prior when the package's posterior cannot be used, recorded in the result).
    ``params_dir`` (or ``base``): parameter files to apply the posterior on, instead of the package's."""
    if params_dir is not None:
        base = parameters_from(params_dir)
    return _resolve_model(choice, base)


def model_parameters(group: str = "all", params_dir: str | Path | None = None) -> tuple[pd.DataFrame, dict]:
    """(table, nested dict) of the annotated parameters of ``group`` (``all`` or one of GROUPS)."""
    check_choice("--group", group, ("all", *GROUPS))
    ps = parameters_from(params_dir)
    frame = ps.to_frame()
    data = ps.to_dict()
    if group != "all":
        frame = frame[frame["group"] == group]
        data = {group: data[group]}
    return frame, data


@dataclass(frozen=True)
class PatientExport:
    out: Path
    fmt: str
    text: str


def export_patient_model(
    out: str | Path,
    *,
    fmt: str = "sbml",
    strength: float = 1.5,
    interval_h: float = 8.0,
    seed: int = 1,
    typical: bool = False,
    age_y: float = 6.5,
    weight_kg: float = 22.0,
    height_cm: float = 118.0,
    affected_pct: float = 10.5,
    grams: float | None = None,
    params_dir: str | Path | None = None,
    overwrite: bool = False,
) -> PatientExport:
    """One virtual patient (parameters, baseline steady state, BID dosing) as SBML or Antimony."""
    from dermsim.model.sbml import antimony_to_sbml, build_patient_antimony
    from dermsim.model.simulate import make_patient, prepare_patients

    check_choice("--format", fmt, ("sbml", "antimony"))
    out = Path(out)
    regimen = Regimen.bid(strength, interval_h=interval_h, grams_per_application=grams)
    patient = make_patient(age_y=age_y, weight_kg=weight_kg, height_cm=height_cm, affected_pct=affected_pct)
    ps = parameters_from(params_dir)
    if typical:
        ps = ps.replace_omegas(**{name: 0.0 for name in ps.names()})
    prep = prepare_patients({k: getattr(patient, k) for k in
                             ("age_y", "weight_kg", "bsa_m2", "affected_pct", "easi0", "iga0", "nrs0")},
                            regimen, ps, seed, 0, 1)
    text = build_patient_antimony(prep, regimen, 0)
    if fmt == "sbml":
        text = antimony_to_sbml(text)
    with output_file(out, overwrite=overwrite) as tmp:
        tmp.write_text(text)
    return PatientExport(out, fmt, text)


@dataclass(frozen=True)
class TrajectoryRun:
    """Daily trajectories of a virtual population, written to ``out`` (Parquet)."""

    out: Path
    trajectories: Trajectories
    days: int
    record: tuple[str, ...]
    model: ResolvedModel


def _sample(population: str, n: int, seed: int) -> Any:
    try:
        module = importlib.import_module("dermsim.model.population")
        sample = module.sample_population
    except (ImportError, AttributeError):
        raise InvalidInputError("--population: population sampling (dermsim.model.population."
                                "sample_population) is not available in this build.") from None
    return sample(population, n=n, seed=seed)


def _write_parquet(traj: Trajectories, out: Path, overwrite: bool) -> None:
    # dermsim.io has no trajectory writer yet (trajectories are not a CDISC dataset), hence here
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = traj.to_frame("wide")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"dermsim"] = json.dumps(traj.metadata(), default=str).encode()
    table = table.replace_schema_metadata(meta)
    with output_file(out, overwrite=overwrite) as tmp:
        pq.write_table(table, tmp)


def _record_names(record: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r.strip() for r in (record.split(",") if isinstance(record, str) else record) if r.strip())


def simulate_regimen(
    regimen: Regimen,
    days: int,
    *,
    seed: int,
    population: str = "true-ad3",
    n: int = 1000,
    blocked: str | None = "jak1/2",
    record: str | tuple[str, ...] = DEFAULT_RECORD,
    workers: int = 2,
    params_dir: str | Path | None = None,
    posterior: str | Path = "shipped",
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
    threads: int | None = None,
) -> tuple[Trajectories, ResolvedModel]:
    """Daily trajectories of ``n`` patients of ``population`` on ``regimen`` for ``days`` days, in
    memory (the model explorer draws them; :func:`simulate_course` writes them). ``blocked``:
    "jak1/2" (the drug), "all", or pathway names such as "IL13" or "IL4+IL13". ``threads``: threads
    of the compiled engine kernel (None: all cores; the numbers do not depend on it)."""
    check_int("--n", n, minimum=1)
    model = resolve_model(posterior, base=parameters_from(params_dir))
    names = _record_names(record)
    pop = _sample(population, n, seed)
    check_cancel(cancel)
    progress.start(n, "simulating")
    seen = 0

    def advance(done: int, total: int) -> None:
        nonlocal seen
        check_cancel(cancel)
        progress.advance(done - seen)
        seen = done

    traj = simulate_patients(pop, regimen, days, seed, record=list(names), workers=workers,
                             params=model.parameters,
                             blocked=None if blocked in (None, "jak1/2") else blocked, progress=advance,
                             threads=threads)
    progress.done(f"{traj.n} patients")
    return traj, model


def simulate_course(
    out: str | Path,
    *,
    seed: int,
    population: str = "true-ad3",
    strength: float = 1.5,
    n: int = 1000,
    weeks: float | None = None,
    interval_h: float = 8.0,
    blocked: str = "jak1/2",
    record: str | tuple[str, ...] = DEFAULT_RECORD,
    workers: int = 2,
    grams: float | None = None,
    params_dir: str | Path | None = None,
    posterior: str | Path = "shipped",
    regimen_file: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
    threads: int | None = None,
) -> TrajectoryRun:
    """Sample a virtual population, simulate it on a cream regimen (twice daily at ``strength``, or
    the schedule over days of ``regimen_file``: periods, holidays, weekend maintenance, as-needed
    rules; examples/regimens/) and write one wide Parquet table (patient, day, one column per
    recorded variable) with the run's metadata (population, regimen, seed record, version) under the
    key ``dermsim``. ``weeks`` defaults to the regimen file's length, else 8."""
    check_int("--n", n, minimum=1)
    if regimen_file is not None:
        regimen = Regimen.from_toml(regimen_file)
        if grams is not None:
            regimen = regimen.replace(grams_per_application=check_positive("--grams", grams))
    else:
        regimen = Regimen.bid(strength, interval_h=interval_h, grams_per_application=grams)
    if weeks is None:
        weeks = regimen.total_days / 7.0 if regimen.total_days is not None else 8.0
    check_positive("--weeks", weeks)
    days = round(weeks * 7)
    if days < 1:
        raise InvalidInputError(f"--weeks must give at least one day; got {weeks}.")
    out = Path(out)
    check_out(out, overwrite=overwrite, kind="file")
    traj, model = simulate_regimen(regimen, days, seed=seed, population=population, n=n, blocked=blocked,
                                   record=record, workers=workers, params_dir=params_dir, posterior=posterior,
                                   progress=progress, cancel=cancel, threads=threads)
    _write_parquet(traj, out, overwrite)
    return TrajectoryRun(out, traj, days, _record_names(record), model)
