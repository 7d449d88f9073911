"""The ``dermsim`` command line.

Each command group lives in its own module below and is registered here. Commands only parse,
call the layers below and print; a :class:`DermsimError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import sys

import click
import typer

from dermsim import __version__
from dermsim.errors import DermsimError

app = typer.Typer(
    name="dermsim",
    help="Virtual patients, virtual trials and analysis for topical therapy in atopic dermatitis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dermsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """dermsim command line."""


# Command groups register themselves on ``app`` when imported.
# (groups are imported here, one line each)
from dermsim.cli import analyze as _analyze  # noqa: E402,F401
from dermsim.cli import data as _data  # noqa: E402,F401
from dermsim.cli import evidence as _evidence  # noqa: E402,F401
from dermsim.cli import model as _model  # noqa: E402,F401
from dermsim.cli import population as _population  # noqa: E402,F401
from dermsim.cli import simulate as _simulate  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; user errors give one line on stderr and exit code 2."""
    try:
        app(args=argv, prog_name="dermsim", standalone_mode=False)
    except DermsimError as exc:
        print(f"dermsim: error: {exc}", file=sys.stderr)
        return 2
    except click.exceptions.UsageError as exc:
        where = f" ({exc.ctx.command_path})" if exc.ctx is not None else ""
        print(f"dermsim: usage error{where}: {exc.format_message()}", file=sys.stderr)
        return 2
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        print("dermsim: aborted.", file=sys.stderr)
        return 130
    except FileNotFoundError as exc:
        print(f"dermsim: error: file not found: {exc.filename}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
