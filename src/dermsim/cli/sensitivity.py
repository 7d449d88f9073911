"""``dermsim model sensitivity --output iga_ts_w8 --method sobol --n 4096 --out DIR``
(:func:`dermsim.workflows.sensitivity.run_sensitivity`); registered on the ``model`` group."""

from __future__ import annotations

from pathlib import Path

import typer

from dermsim.cli.model import model_app
from dermsim.cli.progress import RichProgress
from dermsim.workflows import POSTERIOR_CHOICE_HELP
from dermsim.workflows.sensitivity import METHODS, OUTPUTS, run_sensitivity


@model_app.command("sensitivity")
def sensitivity_cmd(
    out: Path = typer.Option(..., "--out", help="output folder (sensitivity.csv, figure, sensitivity.json)"),
    output: str = typer.Option("iga_ts_w8", "--output", help=f"one of {', '.join(OUTPUTS)}"),
    method: str = typer.Option("sobol", "--method", help=f"one of {', '.join(METHODS)}"),
    n: int = typer.Option(256, "--n", help="Sobol' base sample (power of 2): N (D + 2) model evaluations"),
    params: str | None = typer.Option(None, "--params", help="comma-separated calibrated parameters "
                                      "(default: all of the posterior's)"),
    posterior: str = typer.Option("shipped", "--posterior", help=POSTERIOR_CHOICE_HELP),
    population: str = typer.Option("true-ad1", "--population", help="virtual population of the outputs"),
    patients: int = typer.Option(100, "--patients", help="virtual patients per evaluation (fixed cohort)"),
    strength: float = typer.Option(1.5, "--strength", help="cream strength in percent, twice daily"),
    seed: int = typer.Option(1, "--seed", help="seed of the cohort and of the Sobol' sequence"),
    second_order: bool = typer.Option(False, "--second-order/--no-second-order",
                                      help="also second-order indices (N (2D + 2) evaluations)"),
    workers: int = typer.Option(2, "--workers", help="threads for the week-8 outputs"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace dermsim's files in --out."),
) -> None:
    """Sensitivity of Css, IGA-TS or EASI-75 at week 8 to the calibrated parameters, over the posterior."""
    with RichProgress() as progress:
        run = run_sensitivity(out, output=output, method=method, n=n, params=params, posterior=posterior,
                              population=population, patients=patients, strength=strength, seed=seed,
                              second_order=second_order, workers=workers, overwrite=overwrite,
                              progress=progress)
    top = run.table.sort_values("ST" if method == "sobol" else "swing", ascending=False).head(5)
    col = "ST" if method == "sobol" else "swing"
    largest = ", ".join(f"{r.parameter} {getattr(r, col):.3g}" for r in top.itertuples())
    typer.echo(f"wrote {out}/sensitivity.csv and {out}/{method}.png ({run.evaluations} model evaluations); "
               f"largest {col}: {largest}")
