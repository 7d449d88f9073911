"""``dermsim analyze ADAM_DIR [--plan PLAN] --out DIR``: run an analysis plan on ADaM datasets
(:func:`dermsim.workflows.analyze_adam`) and write ``DIR/ard.csv``, ``DIR/ard.parquet`` and
quick-look tables in ``DIR/tables/``."""

from __future__ import annotations

from pathlib import Path

import typer

from dermsim import workflows
from dermsim.cli import app
from dermsim.workflows import OVERWRITE_HELP


@app.command("analyze")
def analyze(
    adam_dir: Path = typer.Argument(..., help="Folder with ADaM datasets (XPT, Dataset-JSON, Parquet, CSV)."),
    plan: Path | None = typer.Option(None, "--plan", help="Analysis plan TOML (default: built-in AD plan)."),
    out: Path = typer.Option(..., "--out", help="Output folder for ard.csv, ard.parquet and tables/."),
    seed: int = typer.Option(1, "--seed", help="Seed for stochastic methods (multiple imputation)."),
    tables: bool = typer.Option(True, "--tables/--no-tables", help="Write plain-text quick-look tables."),
    only: str = typer.Option("", "--only", help="Comma-separated analysis ids to run (default: all)."),
    report: bool = typer.Option(False, "--report", help="Also write report.html, tlf/*.rtf and figures/ "
                                "(the dermsim run report without the model sections)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Run an analysis plan on ADaM data and write the analysis results data (ARD)."""
    run = workflows.analyze_adam(adam_dir, out, plan=plan, only=only, seed=seed, tables=tables,
                                 report=report, overwrite=overwrite)
    typer.echo(f"{len(run.ard)} ARD rows from {len(run.plan.analyses)} analyses "
               f"({', '.join(run.plan.ids)}) in {run.seconds:.1f} s")
    typer.echo(f"wrote {run.paths['csv']}, {run.paths['parquet']}, {run.paths['meta'].name}, ard_ars.json, "
               "ard_cards.csv"
               + (f" and {run.n_tables} tables in {out / 'tables'}" if tables else ""))
    if report:
        typer.echo(f"report: {out / 'report.html'}")
