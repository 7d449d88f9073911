"""The CLI's error contract: one line on stderr, exit code 2, no traceback."""

import pytest

from dermsim import __version__
from dermsim.cli import main


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["nosuch"], "No such command 'nosuch'"),
        (["population"], "Missing argument 'trial'"),
        (["population", "true-ad3", "--n", "abc"], "--n"),
        (["evidence", "show", "true-ad9"], "trial must be one of"),
    ],
)
def test_user_errors_give_one_line_and_exit_2(capsys, argv, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert expected in err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"dermsim {__version__}"


def test_an_interrupt_gives_exit_130_and_says_so(capsys, monkeypatch):
    # Ctrl-C (or SIGTERM, which the CLI turns into KeyboardInterrupt) inside a command: typer
    # returns Exit(130) outside standalone mode instead of raising it, which main() read as success
    import dermsim.cli.evidence as evidence_cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(evidence_cli, "load_evidence", interrupted)
    assert main(["evidence", "list"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("dermsim: interrupted.") and err.count("\n") == 1
