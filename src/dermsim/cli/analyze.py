"""``dermsim analyze ADAM_DIR [--plan PLAN] --out DIR``: run an analysis plan on ADaM datasets.

Reads every dataset in ADAM_DIR (XPT, Dataset-JSON, Parquet or CSV(.gz), through
:func:`dermsim.io.read_adam_dir`), runs the plan (the built-in atopic dermatitis plan by default)
and writes ``DIR/ard.csv``, ``DIR/ard.parquet``, ``DIR/ard_ars.json`` (CDISC ARS), ``DIR/ard_cards.csv``
(the R cards package's long format) and quick-look tables in ``DIR/tables/``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from dermsim import __version__
from dermsim._rng import seed_record
from dermsim.analysis.plan import default_plan_path, load_plan
from dermsim.analysis.run import run_plan
from dermsim.cli import app
from dermsim.errors import InvalidInputError
from dermsim.io.ard import write_ard
from dermsim.io.ars import write_ars
from dermsim.io.cards import write_cards


def _frames(read: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Data frames from the reader's result (frames, or objects/tuples carrying a frame)."""
    out = {}
    for name, value in read.items():
        if isinstance(value, pd.DataFrame):
            frame = value
        elif isinstance(value, tuple) and value and isinstance(value[0], pd.DataFrame):
            frame = value[0]
        else:
            frame = next((getattr(value, a) for a in ("data", "frame", "df")
                          if isinstance(getattr(value, a, None), pd.DataFrame)), None)
            if frame is None:
                raise InvalidInputError(f"dataset {name}: the reader returned {type(value).__name__}, "
                                        "not a data frame.")
        out[str(name).lower()] = frame
    return out


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
) -> None:
    """Run an analysis plan on ADaM data and write the analysis results data (ARD)."""
    t0 = time.perf_counter()
    if not adam_dir.is_dir():
        raise InvalidInputError(f"ADAM_DIR must be a folder with ADaM datasets; got {adam_dir}.")
    from dermsim.io import find_datasets, read_adam_dir
    the_plan = load_plan(plan if plan is not None else default_plan_path())
    if only.strip():
        the_plan = the_plan.select([i.strip() for i in only.split(",") if i.strip()])
    names = sorted({a.dataset for a in the_plan.analyses} | {"adsl"})
    # read only what the plan uses; a dataset it names but the folder lacks is reported by run_plan
    # with the analysis that needs it
    present = [n for n in names if n in find_datasets(adam_dir)]
    read = read_adam_dir(adam_dir, present)
    datasets = _frames(read)
    ard = run_plan(the_plan, datasets, seed=seed)
    titles = {a.id: a.title for a in the_plan.analyses if a.title}
    meta = {"dermsim_version": __version__, "seed": seed_record(seed), "plan": the_plan.to_dict(),
            "plan_source": str(plan) if plan is not None else "built-in ad_default",
            "adam_dir": str(adam_dir.resolve()), "rows": len(ard),
            "datasets": {k: {"path": str(getattr(v, "path", "") or ""), "format": getattr(v, "format", None),
                             "records": len(datasets[k])} for k, v in read.items()}}
    paths = write_ard(ard, out, tables=tables, titles=titles, meta=meta)
    # the same results for other tools: CDISC ARS JSON and the R cards package's long format
    write_ars(ard, out / "ard_ars.json", name=the_plan.name, titles=titles, description=the_plan.description)
    write_cards(ard, out / "ard_cards.csv")
    typer.echo(f"{len(ard)} ARD rows from {len(the_plan.analyses)} analyses "
               f"({', '.join(the_plan.ids)}) in {time.perf_counter() - t0:.1f} s")
    n_tables = sum(k.startswith("table:") for k in paths)
    typer.echo(f"wrote {paths['csv']}, {paths['parquet']}, {paths['meta'].name}, ard_ars.json, ard_cards.csv"
               + (f" and {n_tables} tables in {out / 'tables'}" if tables else ""))
    if report:
        from dermsim.cli.run import render_analysis_report

        about = (("ADaM folder", str(adam_dir)), ("Analysis plan", the_plan.name))
        title = f"{the_plan.name}: analysis of {adam_dir.name}"
        rep = render_analysis_report(ard, out, title=title, design=about, datasets=datasets, titles=titles)
        typer.echo(f"report: {rep['report']}")
