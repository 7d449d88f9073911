"""The model behind every simulation: which parameters (:func:`resolve_model`) and daily
trajectories of a virtual population on a cream regimen. The parameter table and the SBML export
are in :mod:`dermsim.workflows.model_export`, the posterior summary in
:mod:`dermsim.workflows.posterior_summary`."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from dermsim._validate import check_int, check_positive
from dermsim.calibration.posterior import POSTERIOR_CHOICE_HELP, ResolvedModel
from dermsim.calibration.posterior import resolve_model as _resolve_model
from dermsim.errors import InvalidInputError
from dermsim.model.parameters import GROUPS, ParameterSet, default_parameters, load_parameters
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.simulate import (
    DEFAULT_RECORD,
    RECORDABLE,
    Trajectories,
    check_output_days,
    simulate_patients,
)
from dermsim.workflows.outputs import check_out, output_file
from dermsim.workflows.progress import NO_PROGRESS, CancelToken, Progress, check_cancel

__all__ = [
    "DEFAULT_RECORD",
    "GROUPS",
    "POSTERIOR_CHOICE_HELP",
    "RECORDABLE",
    "ResolvedModel",
    "TrajectoryRun",
    "course_regimen",
    "parameters_from",
    "resolve_model",
    "simulate_course",
    "simulate_regimen",
]


def parameters_from(directory: str | Path | None) -> ParameterSet:
    """The package's parameters, or those in ``directory`` (validated: unit and source required)."""
    return default_parameters() if directory is None else load_parameters(directory)


def course_regimen(strength: float, *, interval_h: float = 8.0, grams: float | None = None,
                   regimen_file: str | Path | None = None) -> Regimen:
    """The regimen of ``--strength/--interval-h/--grams`` (twice daily) or of a ``--regimen`` file
    (``--grams`` then overrides the file's amount)."""
    if regimen_file is not None:
        regimen = Regimen.from_toml(regimen_file)
        if grams is not None:
            regimen = regimen.replace(grams_per_application=check_positive("--grams", grams))
        return regimen
    return Regimen.bid(strength, interval_h=interval_h, grams_per_application=grams)


def resolve_model(choice: str | Path = "shipped", *, params_dir: str | Path | None = None,
                  base: ParameterSet | None = None) -> ResolvedModel:
    """The model parameters for a ``--posterior`` choice ("shipped", "prior" or a posterior JSON file):
    the one rule, :func:`dermsim.calibration.posterior.resolve_model` (posterior hash checks and the
    fallback to the prior when the package's posterior cannot be used, recorded in the result).
    ``params_dir`` (or ``base``): parameter files to apply the posterior on, instead of the package's."""
    if params_dir is not None:
        base = parameters_from(params_dir)
    return _resolve_model(choice, base)


@dataclass(frozen=True)
class TrajectoryRun:
    """Daily trajectories of a virtual population, written to ``out`` (Parquet)."""

    out: Path
    trajectories: Trajectories
    days: int
    record: tuple[str, ...]
    model: ResolvedModel


def _sample(population: str, n: int, seed: int, covariates: Any = None) -> Any:
    try:
        module = importlib.import_module("dermsim.model.population.sampling")
        sample = module.sample_population
    except (ImportError, AttributeError):
        raise InvalidInputError("--population: population sampling (dermsim.model.population.sampling."
                                "sample_population) is not available in this build.") from None
    if covariates is not None:
        return sample(population, n=None, seed=seed, covariates=covariates)
    return sample(population, n=n, seed=seed)


# per-patient model constants written beside the covariates (Trajectories.baseline)
PATIENT_OUTPUTS = {"css_nM": "average steady-state plasma level of the regimen's daily pattern, nM",
                   "F": "fraction of applied drug absorbed (bioavailability)",
                   "dose_mg": "drug applied per application, mg", "grams_per_week": "cream per week, g",
                   "D0": "baseline severity index", "B0": "baseline barrier integrity"}


def parse_grid(text: str | None, option: str = "--hours", example: str = "0:168:1") -> Any:
    """An output grid option (``--hours``, ``--days``): "START:STOP:STEP" (inclusive of STOP when on
    the grid) or a comma list; None when not given."""
    import numpy as np

    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    try:
        if ":" in raw:
            a, b, c = (float(v) for v in raw.split(":"))
            if not c > 0 or b < a:
                raise ValueError
            return a + c * np.arange(int(np.floor((b - a) / c + 1e-9)) + 1)
        return np.array([float(v) for v in raw.split(",") if v.strip()])
    except ValueError:
        raise InvalidInputError(f"{option} must be START:STOP:STEP (e.g. {example}) or a comma list; "
                                f"got {raw!r}.") from None


# patients per Parquet row group of a trajectory file (about 1M rows over 8 weeks of days)
PATIENTS_PER_ROW_GROUP = 16_384


def trajectory_tables(traj: Trajectories, population: Any, patients_per_table: int = PATIENTS_PER_ROW_GROUP):
    """Pyarrow tables of the trajectories, one per ``patients_per_table`` consecutive patients (an
    empty run: one empty table; together, in order, the whole run), one row per patient and day (or
    hour, with ``at_hours``): the recorded variables, then the patient's covariates, Css and other
    per-patient constants, and the parameters with inter-individual variability (``param_<name>``)
    when recorded.

    Built column by column in Arrow from the trajectory arrays, not through a pandas frame: rows are
    patient-major, so a patient's constant is ``np.repeat`` of its column (no join, no index, no
    frame copy), and a table at a time holds the repeated columns of its own patients only."""
    import numpy as np
    import pyarrow as pa

    if traj.hours is not None:
        values, times, time_name = traj.at_hours, float(traj.day[0]) * 24.0 + traj.hours, "time_h"
    else:
        values, times, time_name = traj.values, traj.day, "day"
    t = int(np.asarray(times).shape[0])
    per = population.to_frame().drop(columns="patient") if hasattr(population, "to_frame") else pd.DataFrame()
    for name in PATIENT_OUTPUTS:
        per[name] = traj.baseline[name]
    for name, vals in traj.parameters.items():
        per[f"param_{name}"] = vals
    for lo in range(0, max(traj.n, 1), patients_per_table):
        rows = slice(lo, lo + patients_per_table)
        ids = np.arange(traj.n, dtype=np.int64)[rows]
        cols: dict[str, Any] = {"patient": np.repeat(ids, t),
                                time_name: np.tile(np.asarray(times, float), ids.size)}
        # from_pandas: NaN (a score not observed that day) is written as null, as before
        cols.update({k: pa.array(np.ascontiguousarray(v[rows]).reshape(-1), from_pandas=True)
                     for k, v in values.items()})
        for name in per.columns:
            if name in cols:
                continue
            col = per[name].iloc[rows]
            if isinstance(col.dtype, pd.CategoricalDtype):
                cols[name] = pa.DictionaryArray.from_arrays(np.repeat(col.cat.codes.to_numpy(), t),
                                                            pa.array(col.cat.categories.to_numpy()))
            else:
                arr = col.to_numpy()
                cols[name] = pa.array(np.repeat(arr, t), type=pa.string() if arr.dtype == object else None,
                                      from_pandas=True)
        yield pa.table(cols)


def trajectory_metadata(traj: Trajectories, population: Any, model: ResolvedModel | None = None) -> dict:
    """The trajectory file's metadata: the provenance (posterior version and SHA-256, seed record,
    dermsim version), the hourly grid when there is one, and what the per-patient columns hold."""
    meta = traj.metadata()
    if traj.hours is not None:
        meta["grid"] = {"unit": "h", "n": int(traj.hours.size), "first": float(traj.hours[0]),
                        "last": float(traj.hours[-1]), "variables": list(traj.at_hours),
                        "method": "plasma and local exposure exact (matrix exponential from the step "
                                  "start); disease states linear between step boundaries; a time on a dose "
                                  "is before it"}
    meta["provenance"] = {"dermsim_version": traj.version, "seed": traj.seed,
                          **(model.provenance() if model is not None else {}),
                          "posterior_choice": model.choice if model is not None else None}
    extra = getattr(population, "extra", {}) or {}
    if "covariate_table" in extra:
        meta["covariate_table"] = {"source": extra["covariate_table"], "given": extra["covariates_given"]}
    meta["patient_columns"] = {**PATIENT_OUTPUTS,
                               **({"param_*": "the patient's value of a parameter with IIV "
                                   "(typical values: dermsim model params)"} if traj.parameters else {})}
    return meta


T = TypeVar("T")
_END: Any = object()  # the end of _built_ahead's items (an item may be None)


def _built_ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of ``items``, the next one built in a thread while the caller uses the current.
    For the trajectory writer: NumPy and Arrow release the GIL for most of both the table build and
    the Parquet encoding, so they overlap (measured on 100k patients x 8 weeks, the same file:
    the write 3.7-4.6 s -> 2.9-3.7 s, one more table of 16,384 patients in memory)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="dermsim-table") as pool:
        ahead = pool.submit(next, items, _END)
        while (item := ahead.result()) is not _END:
            ahead = pool.submit(next, items, _END)
            yield item


def _write_parquet(traj: Trajectories, out: Path, overwrite: bool, population: Any = None,
                   model: ResolvedModel | None = None) -> None:
    """The trajectory file, a row group per table of :func:`trajectory_tables`: the whole
    table at once held every per-patient column repeated to every row (1.5 GB of fresh memory on
    100k patients x 8 weeks, faulted in page by page); by row group the table's memory is a row
    group's (peak of that run 2.4 -> 1.6 GB, system time 3.3 -> 2.0 s)."""
    # dermsim.io has no trajectory writer yet (trajectories are not a CDISC dataset), hence here
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {b"dermsim": json.dumps(trajectory_metadata(traj, population, model), default=str).encode()}
    with output_file(out, overwrite=overwrite) as tmp:
        writer = None
        try:
            for table in _built_ahead(trajectory_tables(traj, population)):
                table = table.replace_schema_metadata(meta)
                if writer is None:
                    # dictionary encoding only where values repeat as labels (strings, categories): on
                    # the float columns Arrow builds a dictionary per page and then abandons it, about
                    # 1 s of a 100k-patient run's write, for a file 10 % smaller
                    labels = [f.name for f in table.schema
                              if pa.types.is_string(f.type) or pa.types.is_dictionary(f.type)]
                    writer = pq.ParquetWriter(tmp, table.schema, use_dictionary=labels)
                writer.write_table(table, row_group_size=table.num_rows)
        finally:
            if writer is not None:
                writer.close()


def _record_names(record: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(r.strip() for r in (record.split(",") if isinstance(record, str) else record) if r.strip())


def _split_record(record: str | tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """(model records, record the parameters?): ``params`` is not a model variable but asks for
    every patient's parameter values."""
    names = _record_names(record)
    return tuple(n for n in names if n != "params"), "params" in names


def simulate_regimen(
    regimen: Regimen,
    days: int,
    *,
    seed: int,
    population: str = "true-ad3",
    n: int = 1000,
    blocked: str | None = "jak1/2",
    record: str | tuple[str, ...] = DEFAULT_RECORD,
    workers: int | None = None,
    params_dir: str | Path | None = None,
    posterior: str | Path = "shipped",
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
    covariates: Any = None,
    with_population: bool = False,
    hours: Any = None,
    keep_days: Any = None,
    threads: int | None = None,
) -> tuple[Trajectories, ResolvedModel]:
    """Daily trajectories of ``n`` patients of ``population`` on ``regimen`` for ``days`` days, in
    memory (the model explorer draws them; :func:`simulate_course` writes them). ``blocked``:
    "jak1/2" (the drug), "all", or pathway names such as "IL13" or "IL4+IL13". ``covariates``: a user
    covariate table (CSV/Parquet/DataFrame; its patients replace the ``n`` sampled ones, columns it
    lacks are drawn from ``population``). ``record`` may name ``params`` (each patient's parameter
    values). ``with_population``: return (trajectories, model, population). ``hours``: an output grid
    in hours (array, or text for :func:`parse_grid`) for the variables that have one. ``keep_days``:
    the days to keep (array, or text for :func:`parse_grid`; day 0 first; None: every day). ``threads``:
    threads of the compiled engine kernel (None: all cores; the numbers do not depend on it)."""
    check_int("--n", n, minimum=1)
    if isinstance(keep_days, str):
        keep_days = parse_grid(keep_days, "--days", "0:56:7")
    if keep_days is not None:
        check_output_days(keep_days, 0, days, "--days")
    model = resolve_model(posterior, base=parameters_from(params_dir))
    names, with_params = _split_record(record)
    pop = _sample(population, n, seed) if covariates is None else _sample(population, n, seed, covariates)
    n = pop.n
    check_cancel(cancel)
    progress.start(n, "simulating")
    seen = 0

    def advance(done: int, total: int) -> None:
        nonlocal seen
        check_cancel(cancel)
        progress.advance(done - seen)
        seen = done

    traj = simulate_patients(pop, regimen, days, seed, record=list(names), workers=workers,
                             params=model.parameters, record_params=with_params,
                             output_hours=parse_grid(hours) if isinstance(hours, str) else hours,
                             output_days=keep_days,
                             blocked=None if blocked in (None, "jak1/2") else blocked, progress=advance,
                             threads=threads)
    progress.done(f"{traj.n} patients")
    if with_population:
        return traj, model, pop  # type: ignore[return-value]
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
    workers: int | None = None,
    grams: float | None = None,
    params_dir: str | Path | None = None,
    posterior: str | Path = "shipped",
    regimen_file: str | Path | None = None,
    overwrite: bool = False,
    progress: Progress = NO_PROGRESS,
    cancel: CancelToken | None = None,
    covariates: str | Path | pd.DataFrame | None = None,
    hours: str | None = None,
    keep_days: str | None = None,
    threads: int | None = None,
) -> TrajectoryRun:
    """Sample a virtual population, simulate it on a cream regimen (twice daily at ``strength``, or
    the schedule over days of ``regimen_file``: periods, holidays, weekend maintenance, as-needed
    rules; examples/regimens/) and write one wide Parquet table (patient, day, one column per
    recorded variable, then each patient's covariates, Css and per-patient constants, and with
    ``params`` in ``record`` the parameters with IIV) with the run's metadata (population, regimen,
    seed record, version, and ``provenance``: posterior version and SHA-256) under the key
    ``dermsim``. ``weeks`` defaults to the regimen file's length, else 8. ``covariates``: a user
    covariate table whose patients are simulated (see :func:`simulate_regimen`). ``hours``: write the
    output grid in hours instead of days ("0:168:1"; :func:`parse_grid`), for the variables in
    ``HOURLY_RECORDS`` among ``record``; ``keep_days``: only these days ("0,7,14,28,56" or "0:56:7";
    day 0 first)."""
    check_int("--n", n, minimum=1)
    regimen = course_regimen(strength, interval_h=interval_h, grams=grams, regimen_file=regimen_file)
    if weeks is None:
        weeks = regimen.total_days / 7.0 if regimen.total_days is not None else 8.0
    check_positive("--weeks", weeks)
    days = round(weeks * 7)
    if days < 1:
        raise InvalidInputError(f"--weeks must give at least one day; got {weeks}.")
    out = Path(out)
    check_out(out, overwrite=overwrite, kind="file")
    traj, model, pop = simulate_regimen(  # type: ignore[misc]
        regimen, days, seed=seed, population=population, n=n, blocked=blocked, record=record,
        workers=workers, params_dir=params_dir, posterior=posterior, progress=progress, cancel=cancel,
        covariates=covariates, with_population=True, hours=hours, keep_days=keep_days, threads=threads)
    _write_parquet(traj, out, overwrite, pop, model)
    return TrajectoryRun(out, traj, days, _record_names(record), model)
