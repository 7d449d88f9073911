"""``dermsim design power | sample-size | sweep``: operating characteristics of candidate designs
(:func:`dermsim.workflows.run_design_study`, :func:`~dermsim.workflows.run_sample_size_study`,
:func:`~dermsim.workflows.run_design_sweep`).

Every command writes into ``--out DIR``: ``design.duckdb`` (per-replicate results, committed chunk
by chunk; ``--resume`` continues a killed run), ``results.parquet``, ``summary.csv`` (by
hypothesis), ``designs.csv`` (probability of success per design), ``report.html`` and the power
curve as PNG and SVG. Chunks run on this machine's cores by default (a pool of forked processes);
``--workers N`` runs a local Dask cluster, ``--scheduler tcp://HOST:PORT`` an existing one; the
numbers are the same either way.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dermsim.cli import app
from dermsim.cli.progress import RichProgress
from dermsim.workflows import (
    DEFAULT_REPLICATE_BLOCK,
    OVERWRITE_HELP,
    DesignOptions,
    DesignStudy,
    power_designs,
    run_design_study,
    run_design_sweep,
    run_sample_size_study,
)

design_app = typer.Typer(
    help="Operating characteristics, sample size and design sweeps by simulation.", no_args_is_help=True
)
app.add_typer(design_app, name="design")


def _print(study: DesignStudy) -> None:
    typer.echo(study.designs_table().to_string(index=False))
    typer.echo(
        f"wrote {study.out}/ (design.duckdb, results.parquet, summary.csv, designs.csv, report.html) "
        f"in {study.seconds:.1f} s"
    )


_OPT_REPLICATES = typer.Option(2000, "--replicates", help="replicates (virtual trials) per design")
_OPT_SEED = typer.Option(..., "--seed", help="random seed (integer >= 0)")
_OPT_OUT = typer.Option(..., "--out", help="output directory")
_OPT_OVERWRITE = typer.Option(False, "--overwrite", help=OVERWRITE_HELP)
_OPT_RESUME = typer.Option(
    False, "--resume", help="continue the run stored in --out (only missing replicates)"
)
_OPT_WORKERS = typer.Option(None, "--workers", help="start a local Dask cluster of N worker processes")
_OPT_SCHED = typer.Option(None, "--scheduler", help="address of a running Dask scheduler, tcp://HOST:PORT")
_OPT_CHUNK = typer.Option(None, "--chunk-size", help="replicates per task and per committed chunk")
_OPT_BLOCK = typer.Option(
    DEFAULT_REPLICATE_BLOCK,
    "--replicate-block",
    help="replicates per random-stream block (part of the seed: keep it to reproduce)",
)
_OPT_PARAMS = typer.Option(
    "posterior", "--parameters",
    help="model parameters: posterior (default: a draw of the shipped calibrated posterior per replicate "
    "block, i.e. with parameter uncertainty) or prior (the uncalibrated parameter files)",
)
_OPT_QUIET = typer.Option(False, "--quiet", help="no progress bar")
_OPT_TRUTH = typer.Option(
    0,
    "--truth-patients",
    help="patients of one large virtual trial giving the true effects (bias, coverage); 0: none",
)


@design_app.command("power")
def power_cmd(
    scenario: str = typer.Argument(..., help="built-in scenario (true-ad3, ...) or a design TOML"),
    n: str = typer.Option("150:600:50", "--n", help="total sample sizes START:STOP:STEP or a comma list"),
    replicates: int = _OPT_REPLICATES,
    seed: int = _OPT_SEED,
    out: Path = _OPT_OUT,
    resume: bool = _OPT_RESUME,
    overwrite: bool = _OPT_OVERWRITE,
    workers: int | None = _OPT_WORKERS,
    scheduler: str | None = _OPT_SCHED,
    chunk_size: int | None = _OPT_CHUNK,
    replicate_block: int = _OPT_BLOCK,
    ratio: str | None = typer.Option(None, "--ratio", help="arms and ratio, e.g. rux150=1,vehicle=1"),
    strata: str | None = typer.Option(None, "--strata", help="factors joined by +, or none"),
    primary_day: int | None = typer.Option(None, "--primary-day", help="study day of the primary visit"),
    alpha: float = typer.Option(0.05, "--alpha", help="two-sided level of each test"),
    null: bool = typer.Option(False, "--null", help="every arm gets the vehicle: type I error"),
    parameters: str = _OPT_PARAMS,
    truth_patients: int = _OPT_TRUTH,
    quiet: bool = _OPT_QUIET,
) -> None:
    """Power (probability of success) over a range of total sample sizes."""
    designs = power_designs(n, strata=strata, primary_day=primary_day, alpha=alpha, null=null, ratio=ratio)
    opt = DesignOptions(replicates, seed, resume, workers, scheduler, chunk_size, replicate_block, parameters,
                        overwrite=overwrite)
    with RichProgress(style="rate", disable=quiet) as progress:
        study = run_design_study(scenario, designs, out, opt, title=f"Power by sample size: {scenario}",
                                 truth_patients=truth_patients, progress=progress)
    _print(study)


@design_app.command("sample-size")
def sample_size_cmd(
    scenario: str = typer.Argument(..., help="built-in scenario (true-ad3, ...) or a design TOML"),
    power: float = typer.Option(0.9, "--power", help="target probability of success"),
    n: str = typer.Option("100:700:100", "--n", help="grid of total sample sizes to simulate"),
    replicates: int = _OPT_REPLICATES,
    seed: int = _OPT_SEED,
    out: Path = _OPT_OUT,
    resume: bool = _OPT_RESUME,
    overwrite: bool = _OPT_OVERWRITE,
    workers: int | None = _OPT_WORKERS,
    scheduler: str | None = _OPT_SCHED,
    chunk_size: int | None = _OPT_CHUNK,
    replicate_block: int = _OPT_BLOCK,
    ratio: str | None = typer.Option(None, "--ratio", help="arms and ratio, e.g. rux150=1,vehicle=1"),
    strata: str | None = typer.Option(None, "--strata", help="factors joined by +, or none"),
    primary_day: int | None = typer.Option(None, "--primary-day", help="study day of the primary visit"),
    alpha: float = typer.Option(0.05, "--alpha", help="two-sided level of each test"),
    parameters: str = _OPT_PARAMS,
    quiet: bool = _OPT_QUIET,
) -> None:
    """Smallest total N reaching --power, with its Monte-Carlo interval."""
    opt = DesignOptions(replicates, seed, resume, workers, scheduler, chunk_size, replicate_block, parameters,
                        overwrite=overwrite)
    with RichProgress(style="rate", disable=quiet) as progress:
        study = run_sample_size_study(scenario, out, power=power, n=n, options=opt, ratio=ratio,
                                      strata=strata, primary_day=primary_day, alpha=alpha, progress=progress)
    _print(study)
    res = study.sample_size
    lo, hi = res.n_interval
    typer.echo(
        f"n_required = {res.n_required} (Monte-Carlo 95% interval {lo:.0f}-{hi:.0f}); "
        f"conservative grid n = {res.n_grid_conservative}"
    )


@design_app.command("sweep")
def sweep_cmd(
    grid: Path = typer.Argument(..., help="TOML grid over n_total, ratio, strata, primary_day"),
    replicates: int = _OPT_REPLICATES,
    seed: int = _OPT_SEED,
    out: Path = _OPT_OUT,
    resume: bool = _OPT_RESUME,
    overwrite: bool = _OPT_OVERWRITE,
    workers: int | None = _OPT_WORKERS,
    scheduler: str | None = _OPT_SCHED,
    chunk_size: int | None = _OPT_CHUNK,
    replicate_block: int = _OPT_BLOCK,
    parameters: str = _OPT_PARAMS,
    truth_patients: int = _OPT_TRUTH,
    quiet: bool = _OPT_QUIET,
) -> None:
    """Operating characteristics of every design of a TOML grid."""
    opt = DesignOptions(replicates, seed, resume, workers, scheduler, chunk_size, replicate_block, parameters,
                        overwrite=overwrite)
    with RichProgress(style="rate", disable=quiet) as progress:
        study = run_design_sweep(grid, out, opt, truth_patients=truth_patients, progress=progress)
    _print(study)
