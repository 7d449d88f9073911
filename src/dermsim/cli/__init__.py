"""The ``dermsim`` command line.

Each command group lives in its own module below and is registered here. Commands only parse,
call the layers below and print; a :class:`DermsimError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

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
from dermsim.cli import calibrate as _calibrate  # noqa: E402,F401
from dermsim.cli import clinic as _clinic  # noqa: E402,F401
from dermsim.cli import data as _data  # noqa: E402,F401
from dermsim.cli import design as _design  # noqa: E402,F401
from dermsim.cli import evidence as _evidence  # noqa: E402,F401
from dermsim.cli import model as _model  # noqa: E402,F401
from dermsim.cli import population as _population  # noqa: E402,F401
from dermsim.cli import run as _run  # noqa: E402,F401
from dermsim.cli import simulate as _simulate  # noqa: E402,F401
from dermsim.cli import trial as _trial  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; user errors give one line on stderr and exit code 2."""
    try:
        app(args=argv, prog_name="dermsim", standalone_mode=False)
    except DermsimError as exc:
        print(f"dermsim: error: {exc}", file=sys.stderr)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("dermsim: aborted.", file=sys.stderr)
        return 130
    except TyperException as exc:
        # Usage errors (missing argument, unknown option, bad value): typer >= 0.29 raises its own
        # click-derived classes; all carry format_message() and, where known, the command context.
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if text:  # bare `dermsim` has already printed the help; nothing to add
            print(f"dermsim: usage error{where}: {text}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2) or 2)
    except FileNotFoundError as exc:
        print(f"dermsim: error: file not found: {exc.filename}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
