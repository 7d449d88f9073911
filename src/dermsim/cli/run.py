"""``dermsim run SCENARIO --out DIR`` (simulate -> ADaM -> analysis -> report) and ``dermsim report``
(the report again from a run folder or ARD file): parse, call
:func:`dermsim.workflows.run_virtual_trial` / :func:`dermsim.workflows.rerender_report`, print."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dermsim import workflows
from dermsim.cli import app
from dermsim.cli.progress import RichProgress
from dermsim.workflows import OVERWRITE_HELP


@app.command("run")
def run_cmd(
    scenario: str = typer.Argument(
        ..., help="Built-in scenario (true-ad1, true-ad2, true-ad3) or a design .toml."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (new or empty; see --overwrite)."),
    seed: int = typer.Option(1, "--seed", help="Random seed (integer >= 0)."),
    n_replicates: int = typer.Option(
        1,
        "--n-replicates",
        help="Virtual trials to run; the first is reported in "
        "full, the others add the primary and key secondary ARD rows.",
    ),
    n: int | None = typer.Option(None, "--n", help="Number of subjects (default: the design's n_total)."),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Simulate a virtual trial, derive ADaM, analyse it and write the TLFs and report.html."""
    t0 = time.perf_counter()
    with RichProgress() as progress:
        run = workflows.run_virtual_trial(scenario, out, seed, n_replicates=n_replicates, n=n,
                                          overwrite=overwrite, progress=progress)
    console = Console(width=None if sys.stdout.isatty() else 132)
    table = Table(title="Week 8: simulated and published", title_justify="left")
    for col in workflows.SUMMARY_COLUMNS:
        table.add_column(col, justify="left" if col in ("Endpoint", "Arm") else "right")
    for row in run.summary_rows():
        table.add_row(*row)
    console.print(table)
    if not run.model.calibrated:
        console.print(
            "[yellow]note:[/] no calibrated posterior available; the model's default parameters were used."
        )
    console.print(
        f"report: {out / 'report.html'}  (tables in {out / 'tlf'}, figures in {out / 'figures'}, "
        f"ADaM in {out / 'adam'}; {time.perf_counter() - t0:.1f} s)"
    )


@app.command("report")
def report_cmd(
    source: Path = typer.Argument(..., help="A run folder (from dermsim run or analyze) or an ARD file."),
    out: Path = typer.Option(..., "--out", help="Output folder for report.html, tlf/ and figures/."),
    model: bool = typer.Option(
        True, "--model/--no-model", help="Include the model sections when the run has them."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Render the report again from an existing run or ARD, without simulating."""
    rep = workflows.rerender_report(source, out, model=model, overwrite=overwrite)
    typer.echo(f"report: {rep.report} ({rep.n_tables} RTF tables, {rep.n_figures} figures)")
