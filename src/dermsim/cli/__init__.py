"""The ``dermsim`` command line.

Each command group lives in its own module below and is registered here. Commands only parse,
call the layers below and print; a :class:`DermsimError` becomes one line on stderr and exit 2.
"""

from __future__ import annotations

import errno
import importlib
import os
import signal
import sys
import threading

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


# Command groups register themselves on ``app`` when imported: the modules of each top-level
# command. A run imports only its own command's modules (main), so it loads only the layers that
# command uses: the trial, analysis and report layers alone take about 3 s to import, which
# `dermsim simulate`, `population` or `model` never use. Help, --version and an unknown command
# import them all (register_commands with no command); so the modules whose workflows pull in those
# layers (analyze, data, run, trial) name them as `workflows.<name>` at call time, a lazy export,
# instead of importing them with the module: `dermsim --help` 4.3 s -> 2.6 s.
_COMMAND_MODULES = {
    "analyze": ("analyze",), "calibrate": ("calibrate",), "validate": ("calibrate",),
    "dose": ("clinic",), "family-sheet": ("clinic",), "data": ("data",), "design": ("design",),
    "evidence": ("evidence",), "model": ("model", "sensitivity"), "population": ("population",),
    "run": ("run",), "report": ("run",), "simulate": ("simulate",), "trial": ("trial",), "app": ("webapp",),
}


def register_commands(argv: list[str] | None = None) -> None:
    """Register the command modules ``argv`` (the command line after the program name) needs on
    ``app``: its command's, or every one when it names none known (None: every one)."""
    command = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    every = sorted({m for ms in _COMMAND_MODULES.values() for m in ms})
    modules = _COMMAND_MODULES.get(command or "") or every
    for name in modules:
        importlib.import_module(f"dermsim.cli.{name}")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _os_error(exc: OSError) -> str:
    """One line for a file-system error: what happened, where."""
    where = exc.filename or ""
    if exc.filename2:
        where = f"{where} -> {exc.filename2}"
    what = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOTDIR: "a path component is a file, not a folder",
        errno.EISDIR: "a folder is where a file was expected",
        errno.ENOENT: "no such file or folder",
        errno.EEXIST: "already exists",
        errno.ENOTEMPTY: "folder not empty",
        errno.ENAMETOOLONG: "file name too long",
        errno.ELOOP: "too many levels of symbolic links",
        errno.EMFILE: "too many open files",
        errno.EIO: "input/output error",
        errno.EXDEV: "cannot move across file systems",
    }.get(exc.errno or -1, _one_line(exc.strerror or str(exc)) or type(exc).__name__)
    return f"{what}: {where}" if where else what


def _known_error(exc: BaseException) -> str | None:
    """The one-line message of an error a user (or the machine) caused, or None when it is a
    bug in dermsim."""
    if isinstance(exc, DermsimError):
        return _one_line(str(exc))
    if isinstance(exc, MemoryError):
        return ("out of memory; use a smaller --n, --chunk-size or a Dask cluster "
                "(dermsim design --workers/--scheduler).")
    if isinstance(exc, OSError):
        return _os_error(exc)
    mod = type(exc).__module__ or ""
    if mod.startswith("duckdb") or mod.startswith("_duckdb"):
        text = _one_line(str(exc)).split(". ")[0][:300]
        return f"the DuckDB store could not be used (damaged, locked or not a DuckDB file): {text}"
    if mod.startswith("pandas") and type(exc).__name__ in ("ParserError", "EmptyDataError"):
        return f"a table could not be read: {_one_line(str(exc))[:300]}"
    if mod.startswith("pyarrow") and "Arrow" in type(exc).__name__:
        return f"a Parquet/Arrow file could not be read: {_one_line(str(exc))[:300]}"
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; user errors give one line on stderr and exit code 2, bugs a
    one-line hint and exit code 1 (the traceback only with DERMSIM_DEBUG=1). Progress bars are
    context managers inside the commands, so they have stopped (and left a clean line) before an
    error reaches here."""
    previous = _trap_sigterm()
    try:
        register_commands(sys.argv[1:] if argv is None else list(argv))
        code = app(args=argv, prog_name="dermsim", standalone_mode=False)
        # outside standalone mode typer returns an Exit's code instead of raising it, and it turns
        # KeyboardInterrupt (Ctrl-C, and SIGTERM through _trap_sigterm) into Exit(130): read as
        # success, an interrupted run used to end with exit code 0 and no message
        if code == 130:
            raise KeyboardInterrupt
        if isinstance(code, int) and code:
            return code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("dermsim: interrupted. Outputs are written whole or not at all; a design or calibration run "
              "keeps the work it committed, which --resume continues.", file=sys.stderr)
        return 130
    except TyperException as exc:
        # Usage errors (missing argument, unknown option, bad value): typer >= 0.29 raises its own
        # click-derived classes; all carry format_message() and, where known, the command context.
        ctx = getattr(exc, "ctx", None)
        where = f" ({ctx.command_path})" if ctx is not None else ""
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        if text:  # bare `dermsim` has already printed the help; nothing to add
            print(f"dermsim: usage error{where}: {_one_line(text)}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2) or 2)
    except Exception as exc:
        if os.environ.get("DERMSIM_DEBUG"):
            raise
        msg = _known_error(exc)
        if msg is not None:
            print(f"dermsim: error: {msg}", file=sys.stderr)
            return 2
        print(f"dermsim: internal error ({type(exc).__name__}: {_one_line(str(exc))[:200]}); this is a bug "
              "in dermsim: please report it with the command line (DERMSIM_DEBUG=1 shows the traceback).",
              file=sys.stderr)
        return 1
    finally:
        _restore_sigterm(previous)
    return 0


def _trap_sigterm():
    """SIGTERM becomes an interrupt, so that staging folders are removed as on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):  # pragma: no cover
        return None


def _restore_sigterm(previous) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
