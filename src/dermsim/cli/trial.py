"""``dermsim trial simulate DESIGN --seed S --out DIR [--format xpt,json,parquet]``: run a virtual
trial and write ``DIR/sdtm/`` (DM, EX, QS, AE, DS), ``DIR/adam/`` (ADSL, ADEFF, ADAE) and
``DIR/define.json`` (:func:`dermsim.workflows.simulate_study`). ``DIR`` is built in a staging
folder and published at the end, so a failed or interrupted run leaves it as it was.
"""

from __future__ import annotations

from pathlib import Path

import typer

from dermsim import workflows
from dermsim.cli import app
from dermsim.workflows import OVERWRITE_HELP, POSTERIOR_CHOICE_HELP

trial_app = typer.Typer(
    help="Virtual trials: simulate a design into SDTM-like and ADaM datasets.", no_args_is_help=True
)
app.add_typer(trial_app, name="trial")


@trial_app.command("simulate")
def simulate_cmd(
    design: str = typer.Argument(
        ..., help="Built-in design (true-ad1, true-ad2, true-ad3) or a design .toml."
    ),
    seed: int = typer.Option(..., "--seed", help="Random seed (integer >= 0)."),
    out: Path = typer.Option(..., "--out", help="Output folder (new or empty; see --overwrite)."),
    fmt: str = typer.Option(
        "xpt,json,parquet", "--format",
        help="comma-separated: xpt, json, parquet, nonmem (DIR/nonmem/nonmem.csv with a data dictionary)"),
    n: int | None = typer.Option(None, "--n", help="Number of subjects (default: the design's n_total)."),
    extension: bool = typer.Option(
        True,
        "--extension/--no-extension",
        help="Run the long-term extension after the vehicle-controlled period.",
    ),
    chunk_size: int = typer.Option(
        16_384, "--chunk-size", help="Patients per model chunk (results do not depend on it)."
    ),
    posterior: str = typer.Option("shipped", "--posterior", help=POSTERIOR_CHOICE_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Simulate a virtual trial and write its SDTM-like and ADaM datasets."""
    run = workflows.simulate_study(design, seed, out, formats=fmt, n=n, extension=extension,
                                   chunk_size=chunk_size, posterior=posterior, overwrite=overwrite)
    data = [f for f in run.formats if f != "nonmem"]
    wrote = [f"{out}/sdtm", f"{out}/adam", f"{out}/define.json ({', '.join(data)})"] if data else []
    if "nonmem" in run.formats:
        wrote.append(f"{out}/nonmem/nonmem.csv")
    typer.echo(
        f"{run.design.id}: {run.study.n_subjects} subjects ("
        + ", ".join(f"{k} {v}" for k, v in run.arm_counts().items())
        + f"); wrote {', '.join(wrote)}"
    )
    if run.model.fallback:
        typer.echo(f"note: model default parameters were used ({run.model.fallback}).", err=True)
