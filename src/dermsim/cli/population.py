"""``dermsim population TRIAL [--n 100000] [--seed 1]``: sample a virtual population and print its
baseline marginals beside the published (or assumed) targets, with status and source
(:func:`dermsim.workflows.check_population`)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from dermsim.cli import app
from dermsim.workflows import builtin_populations, check_population
from dermsim.workflows.population import COLUMNS, STATUS_LEGEND


@app.command("population")
def population_cmd(
    trial: str = typer.Argument(..., help=f"built-in population ({', '.join(builtin_populations())}) "
                                          "or a PopulationSpec TOML file"),
    n: int = typer.Option(100_000, "--n", help="number of virtual patients"),
    seed: int = typer.Option(1, "--seed", help="random seed (int >= 0)"),
    chunk_size: int | None = typer.Option(None, "--chunk-size", help="patients per chunk (bounds memory)"),
) -> None:
    """Sample a trial's virtual population and compare it with the published baseline marginals."""
    check = check_population(trial, n, seed, chunk_size)
    table = Table(title=check.title)
    for col in COLUMNS:
        table.add_column(col, overflow="fold")
    for row in check.rows:
        table.add_row(*row)
    table.add_section()
    for row in check.derived_rows:
        table.add_row(*row)
    console = Console(width=180)
    console.print(table)
    console.print(f"laws solved in {check.calibration_s:.2f} s, {n:,} patients sampled in "
                  f"{check.sampling_s:.2f} s.")
    console.print(STATUS_LEGEND)
