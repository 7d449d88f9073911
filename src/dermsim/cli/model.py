"""``dermsim model params`` and ``dermsim model export --format sbml --out FILE``
(:func:`dermsim.workflows.model_parameters`, :func:`dermsim.workflows.export_patient_model`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dermsim.cli import app
from dermsim.workflows import GROUPS, check_choice, export_patient_model, model_parameters

GRAMS_HELP = "cream per application in g (default: fingertip-unit rule on the treated area)"
PARAMS_HELP = "directory of annotated parameter TOML files (default: the package's own)"

model_app = typer.Typer(help="The virtual-patient model: annotated parameters and SBML export.",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("params")
def params_cmd(
    group: str = typer.Option("all", "--group", help=f"one of all, {', '.join(GROUPS)}"),
    fmt: str = typer.Option("table", "--format", help="table, csv or json"),
    params_dir: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
) -> None:
    """Print the annotated parameters: value, unit, IIV (log-scale omega), description, source."""
    check_choice("--group", group, ("all", *GROUPS))
    check_choice("--format", fmt, ("table", "csv", "json"))
    frame, data = model_parameters(group, params_dir)
    if fmt == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table(show_lines=False)
    for col in ("group", "name", "value", "unit", "omega", "description", "source"):
        table.add_column(col, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(row.group, row.name, f"{row.value:.6g}", row.unit,
                      f"{row.omega:g}" if row.omega else "-", row.description, row.source)
    Console(width=200).print(table)


@model_app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", help="file to write"),
    fmt: str = typer.Option("sbml", "--format", help="sbml or antimony"),
    strength: float = typer.Option(1.5, "--strength", help="cream strength in percent (0 = vehicle)"),
    interval_h: float = typer.Option(8.0, "--interval-h", help="hours between the two daily applications"),
    seed: int = typer.Option(1, "--seed", help="seed of the patient's parameter draw"),
    typical: bool = typer.Option(False, "--typical", help="typical parameter values (no IIV draw)"),
    age_y: float = typer.Option(6.5, "--age", help="age in years"),
    weight_kg: float = typer.Option(22.0, "--weight-kg"),
    height_cm: float = typer.Option(118.0, "--height-cm"),
    affected_pct: float = typer.Option(10.5, "--affected-pct", help="treated %BSA"),
    grams: float | None = typer.Option(None, "--grams", help=GRAMS_HELP),
    params_dir: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Write one virtual patient (parameters, baseline steady state, BID dosing) as SBML or Antimony."""
    export_patient_model(out, fmt=fmt, strength=strength, interval_h=interval_h, seed=seed, typical=typical,
                         age_y=age_y, weight_kg=weight_kg, height_cm=height_cm, affected_pct=affected_pct,
                         grams=grams, params_dir=params_dir, overwrite=overwrite)
    who = "typical" if typical else f"seed {seed}"
    typer.echo(f"wrote {out} ({fmt}, {strength:g} % cream, {who} patient)")
