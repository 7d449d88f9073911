"""``dermsim simulate --population true-ad3 --strength 1.5 --n 1000 --weeks 8 --seed 1 --out traj.parquet``.

``--regimen FILE.toml`` replaces ``--strength``/``--interval-h`` by a regimen over time (periods,
holidays, weekend maintenance, as-needed rules; examples/regimens/); ``--weeks`` then defaults to
the regimen's length.

Samples the population, simulates every patient (daily outputs) and writes one wide Parquet table
(patient, day, one column per recorded variable) with the run's metadata (population, regimen,
seed record, version) in the Parquet key-value metadata under ``dermsim``. The file is written
atomically. dermsim.io has no trajectory writer yet, hence the small writer here.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dermsim._atomic import atomic_path
from dermsim._validate import check_int, check_positive
from dermsim.calibration.posterior import POSTERIOR_CHOICE_HELP, resolve_parameters
from dermsim.cli import app
from dermsim.cli.model import GRAMS_HELP, PARAMS_HELP, parameters_from
from dermsim.errors import InvalidInputError
from dermsim.model.regimen import Regimen
from dermsim.model.simulate import DEFAULT_RECORD, RECORDABLE, Trajectories, simulate_patients


def _sample(population: str, n: int, seed: int) -> Any:
    try:
        module = importlib.import_module("dermsim.model.population")
        sample = module.sample_population
    except (ImportError, AttributeError):
        raise InvalidInputError("--population: population sampling (dermsim.model.population."
                                "sample_population) is not available in this build.") from None
    return sample(population, n=n, seed=seed)


def _write_parquet(traj: Trajectories, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = traj.to_frame("wide")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"dermsim"] = json.dumps(traj.metadata(), default=str).encode()
    table = table.replace_schema_metadata(meta)
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp)


@app.command("simulate")
def simulate_cmd(
    out: Path = typer.Option(..., "--out", help="Parquet file to write"),
    population: str = typer.Option("true-ad3", "--population", help="population spec name"),
    strength: float = typer.Option(1.5, "--strength", help="cream strength in percent (0 = vehicle)"),
    n: int = typer.Option(1000, "--n", help="number of virtual patients"),
    weeks: float | None = typer.Option(
        None, "--weeks", help="course length in weeks (default 8, or the --regimen file's length)"),
    seed: int = typer.Option(..., "--seed", help="random seed (integer >= 0)"),
    interval_h: float = typer.Option(8.0, "--interval-h", help="hours between the two daily applications"),
    blocked: str = typer.Option("jak1/2", "--blocked",
                                help="pathways blocked: jak1/2, all, or names such as IL13 or IL4+IL13"),
    record: str = typer.Option(",".join(DEFAULT_RECORD), "--record",
                               help=f"comma-separated variables from {', '.join(RECORDABLE)}"),
    workers: int = typer.Option(2, "--workers", help="threads (results do not depend on it)"),
    grams: float | None = typer.Option(None, "--grams", help=GRAMS_HELP),
    params_dir: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
    posterior: str = typer.Option("shipped", "--posterior", help=POSTERIOR_CHOICE_HELP),
    regimen_file: Path | None = typer.Option(None, "--regimen",
                                             help="regimen TOML file (schedule over days, as-needed rule); "
                                                  "replaces --strength and --interval-h"),
) -> None:
    """Simulate a virtual population on a cream regimen and write daily trajectories."""
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
    params = resolve_parameters(posterior, parameters_from(params_dir))
    names = [r.strip() for r in record.split(",") if r.strip()]
    pop = _sample(population, n, seed)
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed}/{task.total} patients"),
                  TimeElapsedColumn(), transient=True, disable=n < 5000) as bar:
        task = bar.add_task("simulate", total=n)
        traj = simulate_patients(pop, regimen, days, seed, record=names, workers=workers, params=params,
                                 blocked=None if blocked == "jak1/2" else blocked,
                                 progress=lambda done, total: bar.update(task, completed=done))
    _write_parquet(traj, out)
    typer.echo(f"wrote {out}: {traj.n} patients x {days + 1} days ({', '.join(names)})")
