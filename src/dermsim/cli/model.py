"""``dermsim model params``, ``dermsim model export`` and ``dermsim model posterior``
(:func:`dermsim.workflows.model_parameters`, :func:`dermsim.workflows.export_patient_model`,
:func:`dermsim.workflows.summarize_posterior`). Each takes ``--posterior`` (shipped, prior or a
file), resolved by the one rule :func:`dermsim.workflows.resolve_model`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dermsim.cli import app
from dermsim.cli.option_help import GRAMS_HELP, PARAMS_HELP, REGIMEN_HELP
from dermsim.workflows import (
    GROUPS,
    POSTERIOR_CHOICE_HELP,
    check_choice,
    export_patient_model,
    model_parameters,
    summarize_posterior,
)

model_app = typer.Typer(help="The virtual-patient model: parameters, posterior, SBML/Antimony export.",
                        no_args_is_help=True)
app.add_typer(model_app, name="model")


def _say_fallback(model) -> None:
    if model.fallback:
        typer.echo(f"note: the shipped posterior is not used ({model.fallback}); parameters are the prior",
                   err=True)


@model_app.command("params")
def params_cmd(
    group: str = typer.Option("all", "--group", help=f"one of all, {', '.join(GROUPS)}"),
    fmt: str = typer.Option("table", "--format", help="table, csv or json"),
    params_dir: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
    posterior: str = typer.Option("shipped", "--posterior", help=POSTERIOR_CHOICE_HELP),
) -> None:
    """Print the annotated parameters as simulations use them: value, unit, IIV (log-scale omega),
    description, source, and which values the posterior sets."""
    check_choice("--group", group, ("all", *GROUPS))
    check_choice("--format", fmt, ("table", "csv", "json"))
    result = model_parameters(group, params_dir, posterior=posterior)
    _say_fallback(result.model)
    if fmt == "csv":
        typer.echo(result.frame.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        typer.echo(json.dumps(result.data, indent=2))
        return
    table = Table(title=f"parameters: {result.label}", show_lines=False)
    for col in ("group", "name", "value", "unit", "omega", "from", "description", "source"):
        table.add_column(col, overflow="fold")
    for row in result.frame.to_dict("records"):
        table.add_row(row["group"], row["name"], f"{row['value']:.6g}", row["unit"],
                      f"{row['omega']:g}" if row["omega"] else "-", row["from"], row["description"],
                      row["source"])
    Console(width=220).print(table)


@model_app.command("export")
def export_cmd(
    out: Path = typer.Option(..., "--out", help="file to write"),
    fmt: str = typer.Option("sbml", "--format", help="sbml or antimony"),
    posterior: str = typer.Option("shipped", "--posterior", help=POSTERIOR_CHOICE_HELP),
    strength: float = typer.Option(1.5, "--strength", help="cream strength in percent (0 = vehicle)"),
    interval_h: float = typer.Option(8.0, "--interval-h", help="hours between the two daily applications"),
    regimen_file: Path | None = typer.Option(None, "--regimen", help=REGIMEN_HELP),
    seed: int = typer.Option(1, "--seed", help="seed of the patient's parameter draw"),
    typical: bool = typer.Option(False, "--typical", help="typical parameter values (no IIV draw)"),
    age_y: float = typer.Option(6.5, "--age", help="age in years"),
    weight_kg: float = typer.Option(22.0, "--weight-kg"),
    height_cm: float = typer.Option(118.0, "--height-cm"),
    affected_pct: float = typer.Option(10.5, "--affected-pct", help="treated %BSA"),
    easi0: float = typer.Option(8.6, "--easi0", help="baseline EASI"),
    iga0: int = typer.Option(3, "--iga0", help="baseline IGA (0-4)"),
    nrs0: float = typer.Option(5.0, "--nrs0", help="baseline weekly itch NRS"),
    grams: float | None = typer.Option(None, "--grams", help=GRAMS_HELP),
    params_dir: Path | None = typer.Option(None, "--params", help=PARAMS_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Write one virtual patient as SBML or Antimony: parameters under --posterior, baseline steady
    state, the regimen as events, EASI / latent IGA / IGA / itch NRS as assignment rules."""
    result = export_patient_model(out, fmt=fmt, strength=strength, interval_h=interval_h, seed=seed,
                                  typical=typical, age_y=age_y, weight_kg=weight_kg, height_cm=height_cm,
                                  affected_pct=affected_pct, easi0=easi0, iga0=iga0, nrs0=nrs0, grams=grams,
                                  params_dir=params_dir, posterior=posterior, regimen_file=regimen_file,
                                  overwrite=overwrite)
    _say_fallback(result.model)
    who = "typical" if typical else f"seed {seed}"
    what = result.regimen.name or f"{strength:g} % cream"
    params = (f"posterior {result.model.posterior.version}" if result.model.posterior is not None
              else "prior parameters")
    typer.echo(f"wrote {out} ({fmt}, {what}, {who} patient, {params})")


@model_app.command("posterior")
def posterior_cmd(
    posterior: str = typer.Option("shipped", "--posterior",
                                  help="'shipped' (default: the posterior the package uses) or a posterior "
                                  "JSON file"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    all_pairs: bool = typer.Option(False, "--correlations", help="print the full correlation matrix"),
) -> None:
    """Summarize a posterior: medians and 90 % intervals, shrinkage against the prior, correlations,
    effective sample size and the checks in its diagnostics file."""
    s = summarize_posterior(posterior)
    if as_json:
        typer.echo(json.dumps(s.to_dict(), indent=2, default=str))
        return
    console = Console(width=200)
    table = Table(title=f"posterior {s.version} ({s.method}; {s.n_draws} draws, ESS {s.ess:.0f})")
    for col in ("parameter", "model", "unit", "prior median", "median", "90 % interval", "SD/prior SD",
                "verdict"):
        table.add_column(col, overflow="fold")
    for r in s.parameters:
        model = r["model_parameter"] + ("" if r["field"] in ("value", "trial") else f" ({r['field']})")
        # significant digits: the parameters span six orders of magnitude
        table.add_row(r["parameter"], model, r["unit"], f"{r['prior_median']:.4g}", f"{r['median']:.4g}",
                      f"{r['q05']:.4g} to {r['q95']:.4g}", f"{r['shrinkage_ratio']:.2f}", r["verdict"])
    console.print(table)
    checks = Table(title=f"checks ({s.diagnostics_file or 'no diagnostics file'})")
    for col in ("check", "value", "ok", "note"):
        checks.add_column(col, overflow="fold")
    for c in s.checks:
        ok = "-" if c["ok"] is None else ("yes" if c["ok"] else "NO")
        checks.add_row(c["check"], str(c["value"]), ok, c["note"])
    console.print(checks)
    if all_pairs:
        corr = Table(title=f"correlations ({s.correlations['scale']})")
        corr.add_column("")
        names = s.correlations["names"]
        for name in names:
            corr.add_column(name, justify="right")
        for name, row in zip(names, s.correlations["matrix"], strict=True):
            corr.add_row(name, *(f"{v:+.2f}" for v in row))
        console.print(corr)
    elif s.strong_pairs:
        pairs = ", ".join(f"{p['a']}-{p['b']} {p['r']:+.2f}" for p in s.strong_pairs)
        console.print(f"strong correlations (|r| >= 0.5, {s.correlations['scale']}): {pairs}")
    for note in s.notes:
        console.print(f"note: {note}")
