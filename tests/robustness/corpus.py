"""The bad-input corpus (issue 15): helpers and the tally (fixtures and the summary: conftest.py).

Every case runs the CLI in-process (``dermsim.cli.main(argv)``) inside a fresh folder and checks
the promise for bad input: exit code 2, exactly one line on stderr, no traceback, and the whole
folder (inputs and the output location) byte for byte as before. The tally (cases, clean errors,
tracebacks, silent exit 0, outputs left behind, user files changed) is printed at the end of the
test session and written to ``$DERMSIM_CORPUS_TALLY`` when that is set.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

TALLY: Counter[str] = Counter()


def snapshot(root: Path) -> dict[str, str]:
    """Every file, folder and link under ``root`` (hidden ones included) -> content digest / kind."""
    out: dict[str, str] = {}
    for dirpath, dirnames, files in os.walk(root):
        for d in dirnames:
            p = Path(dirpath, d)
            out[str(p.relative_to(root))] = "link" if p.is_symlink() else "dir"
        for f in files:
            p = Path(dirpath, f)
            if p.is_symlink():
                out[str(p.relative_to(root))] = f"link:{os.readlink(p)}"
            else:
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@dataclass
class Outcome:
    rc: int
    out: str
    err: str
    before: dict[str, str]
    after: dict[str, str]

    @property
    def lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()]

    @property
    def added(self) -> set[str]:
        return set(self.after) - set(self.before)

    @property
    def changed(self) -> set[str]:
        return {k for k in self.before if self.after.get(k) != self.before[k]}


def run_cli(argv: list[str], where: Path, capsys: pytest.CaptureFixture[str]) -> Outcome:
    """Run ``dermsim argv`` in-process with ``where`` as working folder; snapshot it around."""
    from dermsim.cli import main

    before = snapshot(where)
    old = os.getcwd()
    os.chdir(where)
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    finally:
        os.chdir(old)
    cap = capsys.readouterr()
    return Outcome(rc, cap.out, cap.err, before, snapshot(where))


def tally_and_check(o: Outcome) -> None:
    """Count the outcome and assert the bad-input promise."""
    TALLY["cases"] += 1
    traceback = "Traceback" in o.err or "Traceback" in o.out
    TALLY["tracebacks"] += traceback
    TALLY["silent exit 0"] += o.rc == 0
    TALLY["outputs left behind"] += bool(o.added)
    TALLY["user files changed"] += bool(o.changed)
    clean = o.rc == 2 and len(o.lines) == 1 and not traceback and not o.added and not o.changed
    TALLY["clean errors"] += clean
    assert not traceback, o.err
    assert o.rc == 2, f"exit {o.rc}; stderr: {o.err!r}; stdout: {o.out[-300:]!r}"
    assert len(o.lines) == 1, o.err
    assert o.lines[0].startswith("dermsim: "), o.err
    assert not o.added, f"left behind: {sorted(o.added)[:5]}"
    assert not o.changed, f"changed: {sorted(o.changed)[:5]}"


Setup = Callable[[Path, Path, Path], list[str]]


def copy_adam(src: Path, dst: Path, keep: tuple[str, ...] = ()) -> Path:
    """Copy the ADaM folder ``src`` to ``dst`` (only the files named in ``keep`` when given)."""
    dst.mkdir(parents=True, exist_ok=True)
    for p in sorted(src.iterdir()):
        if p.is_file() and (not keep or p.name in keep):
            shutil.copy2(p, dst / p.name)
    return dst
