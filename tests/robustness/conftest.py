"""Fixtures of the bad-input corpus and its tally at the end of the session (see corpus.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from robustness.corpus import TALLY


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not TALLY:
        return
    keys = ("cases", "clean errors", "tracebacks", "silent exit 0", "outputs left behind",
            "user files changed")
    terminalreporter.write_line("bad-input corpus: " + ", ".join(f"{k} {TALLY[k]}" for k in keys))
    dest = os.environ.get("DERMSIM_CORPUS_TALLY")
    if dest:
        Path(dest).write_text(json.dumps({k: TALLY[k] for k in keys}, indent=1) + "\n")


@pytest.fixture(scope="session")
def valid_trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny valid trial folder (sdtm/, adam/ as XPT, Dataset-JSON and Parquet) made once."""
    from dermsim.cli import main

    root = tmp_path_factory.mktemp("valid") / "trial"
    assert main(["trial", "simulate", "true-ad3", "--seed", "3", "--n", "12", "--no-extension",
                 "--out", str(root)]) == 0
    return root


@pytest.fixture(scope="session")
def valid_csv(valid_trial: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same ADaM datasets as CSV."""
    from dermsim.cli import main

    out = tmp_path_factory.mktemp("validcsv") / "csv"
    assert main(["data", "convert", str(valid_trial / "adam"), "--out", str(out), "--format", "csv"]) == 0
    return out


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    """A fresh working folder with a user's own document in it (which must never change)."""
    (tmp_path / "notes.txt").write_text("my own notes\n")
    return tmp_path
