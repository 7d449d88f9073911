"""``dermsim simulate --population true-ad3 --strength 1.5 --n 1000 --weeks 8 --seed 1 --out traj.parquet``:
daily trajectories of a virtual population on a cream regimen, one wide Parquet table with the
run's metadata (:func:`dermsim.workflows.simulate_course`). ``--regimen FILE.toml`` replaces
``--strength``/``--interval-h`` by a regimen over time (periods, holidays, weekend maintenance,
as-needed rules; examples/regimens/); ``--weeks`` then defaults to the regimen's length."""

from __future__ import annotations

from pathlib import Path

import typer

from dermsim.cli import app
from dermsim.cli.option_help import GRAMS_HELP, PARAMS_HELP
from dermsim.cli.progress import RichProgress
from dermsim.workflows import DEFAULT_RECORD, POSTERIOR_CHOICE_HELP, RECORDABLE, simulate_course


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
                               help=f"comma-separated variables from {', '.join(RECORDABLE)}; "
                                    "params: each patient's parameter values"),
    workers: int | None = typer.Option(None, "--workers",
                                       help="chunk threads (default: one per core; same results)"),
    threads: int | None = typer.Option(
        None, "--threads", help="threads of the compiled engine kernel (default: all cores; results do not "
        "depend on it)"),
    grams: float | None = typer.Option(None, "--grams", help=GRAMS_HELP),
    params_dir: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
    posterior: str = typer.Option("shipped", "--posterior", help=POSTERIOR_CHOICE_HELP),
    regimen_file: Path | None = typer.Option(None, "--regimen",
                                             help="regimen TOML file (schedule over days, as-needed rule); "
                                                  "replaces --strength and --interval-h"),
    covariates: Path | None = typer.Option(
        None, "--covariates", help="your patients: CSV or Parquet, one row per patient (age_y, sex, "
        "weight_kg, height_cm, affected_pct, region_pct_<region>, iga0, easi0, nrs0; only age_y "
        "required, the rest is drawn from --population); replaces --n"),
    hours: str | None = typer.Option(
        None, "--hours", help="output grid in hours instead of days, START:STOP:STEP (0:168:1) or a comma "
        "list, for B, P, Th1, Th2, Th17, Th22, Q, M, D, cp_nM, u, easi_mean (scores stay daily)"),
    keep_days: str | None = typer.Option(
        None, "--days", help="keep only these days, a comma list (0,7,14,28,56) or START:STOP:STEP "
        "(0:56:7), day 0 first; the kept days are the numbers of a full run (default: every day)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Simulate a virtual population on a cream regimen and write daily trajectories, each
    patient's covariates and Css, and the run's provenance (Parquet metadata key "dermsim")."""
    with RichProgress(disable=n < 5000) as progress:
        run = simulate_course(out, seed=seed, population=population, strength=strength, n=n, weeks=weeks,
                              interval_h=interval_h, blocked=blocked, record=record, workers=workers,
                              grams=grams, params_dir=params_dir, posterior=posterior,
                              regimen_file=regimen_file, overwrite=overwrite, progress=progress,
                              covariates=covariates, hours=hours, keep_days=keep_days, threads=threads)
    traj = run.trajectories
    grid = f"{traj.day.size} days" if traj.hours is None else f"{traj.hours.size} times in hours"
    shown = ", ".join(run.record if traj.hours is None else list(traj.at_hours))
    typer.echo(f"wrote {out}: {traj.n} patients x {grid} ({shown})")
    hourly = traj.at_hours if traj.hours is not None else None
    daily_only = [r for r in run.record if hourly is not None and r not in hourly and r != "params"]
    if daily_only:
        typer.echo(f"note: no hourly grid for {', '.join(daily_only)} (scores are visit observations); "
                   "simulate without --hours for them", err=True)
