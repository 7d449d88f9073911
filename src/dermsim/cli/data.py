"""``dermsim data check ADAM_DIR`` and ``dermsim data convert ADAM_DIR --out DIR --format ...``:
look at, check and convert a folder of ADaM datasets (XPT, Dataset-JSON, Parquet, CSV(.gz));
:func:`dermsim.workflows.check_adam` / :func:`dermsim.workflows.convert_adam`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dermsim import workflows
from dermsim.cli import app
from dermsim.workflows import OVERWRITE_HELP

data_app = typer.Typer(help="ADaM dataset folders: check against the ADaM schemas, convert formats.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")

_DATASETS_HELP = "comma-separated dataset names to read (default: all in the folder)"


@data_app.command("check")
def check_cmd(
    adam_dir: Path = typer.Argument(..., help="Folder with ADaM datasets."),
    datasets: str | None = typer.Option(None, "--datasets", help=_DATASETS_HELP),
    strict: bool = typer.Option(False, "--strict", help="Also require the ADaM IG 'Req' variables and "
                                "extensible controlled terms."),
) -> None:
    """Read every dataset, check it against its ADaM schema and list what was found."""
    found = workflows.check_adam(adam_dir, datasets, strict=strict)
    table = Table(show_lines=False)
    for col in ("dataset", "file", "records", "variables", "label", "schema"):
        table.add_column(col, overflow="fold")
    for r in found.datasets:
        table.add_row(r.dataset, r.file, str(r.records), str(r.variables), r.label, r.schema)
    Console(width=160).print(table)
    for note in found.notes:
        typer.echo(f"note: {note} (an error with --strict)")
    typer.echo(f"{len(found.datasets)} datasets read from {adam_dir}; all checks passed.")


@data_app.command("convert")
def convert_cmd(
    adam_dir: Path = typer.Argument(..., help="Folder with ADaM datasets."),
    out: Path = typer.Option(..., "--out", help="Output folder (new or empty; see --overwrite)."),
    fmt: str = typer.Option("xpt,json,parquet", "--format",
                            help="comma-separated: xpt, json, ndjson, parquet, csv, csv.gz"),
    datasets: str | None = typer.Option(None, "--datasets", help=_DATASETS_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help=OVERWRITE_HELP),
) -> None:
    """Convert ADaM datasets between formats, with labels, lengths and a define.json."""
    run = workflows.convert_adam(adam_dir, out, formats=fmt, datasets=datasets, overwrite=overwrite)
    typer.echo(f"wrote {run.n_files} files ({', '.join(run.formats)}) for {len(run.paths)} datasets and "
               f"define.json in {out}")
