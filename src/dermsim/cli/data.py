"""``dermsim data check ADAM_DIR`` and ``dermsim data convert ADAM_DIR --out DIR --format ...``:
look at, check and convert a folder of ADaM datasets (XPT, Dataset-JSON, Parquet, CSV(.gz))."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from dermsim.cdisc.schemas import check_dataset, schema_for
from dermsim.cli import app
from dermsim.errors import InvalidInputError
from dermsim.io import read_adam_dir, write_adam_dir
from dermsim.workflows.outputs import OVERWRITE_HELP, check_out, output_dir

data_app = typer.Typer(help="ADaM dataset folders: check against the ADaM schemas, convert formats.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")

_DATASETS_HELP = "comma-separated dataset names to read (default: all in the folder)"


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise InvalidInputError(f"--datasets must name at least one dataset; got {text!r}.")
    return names


@data_app.command("check")
def check_cmd(
    adam_dir: Path = typer.Argument(..., help="Folder with ADaM datasets."),
    datasets: str | None = typer.Option(None, "--datasets", help=_DATASETS_HELP),
    strict: bool = typer.Option(False, "--strict", help="Also require the ADaM IG 'Req' variables and "
                                "extensible controlled terms."),
) -> None:
    """Read every dataset, check it against its ADaM schema and list what was found."""
    read = read_adam_dir(adam_dir, _names(datasets), check=False)
    table = Table(show_lines=False)
    for col in ("dataset", "file", "records", "variables", "label", "schema"):
        table.add_column(col, overflow="fold")
    for name, ds in read.items():
        sch = schema_for(name)
        check_dataset(name.upper(), ds.data, strict=strict)
        table.add_row(name.upper(), ds.path.name if ds.path else "", str(len(ds.data)),
                      str(ds.data.shape[1]), ds.meta.label,
                      f"{sch.structure} ok{' (strict)' if strict else ''}" if sch else "no schema")
    Console(width=160).print(table)
    typer.echo(f"{len(read)} datasets read from {adam_dir}; all checks passed.")


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
    if out.resolve() == adam_dir.resolve():
        raise InvalidInputError(f"--out must differ from ADAM_DIR; got {out} for both.")
    check_out(out, overwrite=overwrite)
    read = read_adam_dir(adam_dir, _names(datasets))
    formats = [f.strip() for f in fmt.split(",") if f.strip()]
    with output_dir(out, overwrite=overwrite) as tmp:
        paths = write_adam_dir(read, tmp, formats=formats)
    n_files = sum(len(v) for v in paths.values())
    typer.echo(f"wrote {n_files} files ({', '.join(formats)}) for {len(paths)} datasets and "
               f"define.json in {out}")
