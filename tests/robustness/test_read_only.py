"""A read-only output location: one clear line, exit code 2, nothing created, nothing of an earlier
output changed or half-replaced, no staging folder left behind.

The tests run as root, for whom file permissions do not stop a write, so a real read-only location
is made three ways: the command runs as an unprivileged user (``nobody``) against folders made
read-only with chmod (when the tests run as root; a non-root run uses chmod directly); a read-only
tmpfs (where mounting is allowed; EROFS stops root too); and, everywhere, a PermissionError or
EROFS injected into the writers and into the final swap of ``--overwrite``.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from robustness.corpus import run_cli, snapshot, tally_and_check

SIM = ["trial", "simulate", "true-ad3", "--seed", "1", "--n", "6", "--no-extension"]
NOBODY = 65534


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".dermsim-staging-")
                  or p.name.endswith(".part") or p.name.endswith(".old"))


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's own tmp folder is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="dermsim-ro-", dir="/tmp"))
    root.chmod(0o777)
    try:
        yield root
    finally:
        for p in [root, *root.rglob("*")]:  # make everything removable again
            if p.is_dir() and not p.is_symlink():
                p.chmod(0o777)
        shutil.rmtree(root, ignore_errors=True)


def _dermsim_as_user(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``dermsim args`` in a fresh process, as ``nobody`` (setpriv, no capabilities) when we are
    root, so that chmod counts."""
    # the NumPy engine: the unprivileged user cannot use numba's cache beside the (root-owned)
    # source, and compiling the kernels afresh in each run cost about 100 s of this file's CI time;
    # what is tested here is where outputs go, not the engine
    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home / "mpl"),
           "SOURCE_DATE_EPOCH": "1700000000", "DERMSIM_ENGINE": "numpy"}
    who: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop to an unprivileged user")
        who = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run([*who, sys.executable, "-m", "dermsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        for p in [path, *path.rglob("*")]:
            os.chown(p, NOBODY, NOBODY)


def _read_only(path: Path) -> None:
    for p in sorted([path, *path.rglob("*")], key=lambda x: -len(x.parts)):
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _one_clean_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr and len(lines) == 1, done.stderr
    assert lines[0].startswith("dermsim: ") and all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.mark.slow
def test_out_under_a_read_only_folder_is_refused_before_anything_runs(shared_tmp: Path) -> None:
    home = shared_tmp / "home"
    home.mkdir()
    _own(home)
    locked = shared_tmp / "locked"
    locked.mkdir()
    (locked / "notes.txt").write_text("mine\n")
    _read_only(locked)
    before = snapshot(shared_tmp / "locked")
    for args in (SIM, ["run", "true-ad3", "--seed", "1", "--n", "6"]):
        done = _dermsim_as_user([*args, "--out", str(locked / "o")], shared_tmp, home)
        _one_clean_line(done, "not writable", str(locked))
    assert snapshot(locked) == before and _leftovers(shared_tmp) == []


@pytest.mark.slow
def test_overwrite_of_a_read_only_output_folder_is_refused_and_leaves_it_as_it_was(shared_tmp: Path) -> None:
    home = shared_tmp / "home"
    home.mkdir()
    work = shared_tmp / "work"
    work.mkdir()
    _own(home)
    _own(work)
    first = _dermsim_as_user([*SIM, "--out", "o"], work, home)
    assert first.returncode == 0, first.stderr
    _read_only(work / "o" / "adam")  # one subfolder read-only is enough to refuse
    before = snapshot(work)
    done = _dermsim_as_user([*["trial", "simulate", "true-ad3", "--seed", "2", "--n", "6", "--no-extension"],
                             "--out", "o", "--overwrite"], work, home)
    _one_clean_line(done, "read-only", "adam")
    _read_only(work / "o")
    done = _dermsim_as_user([*SIM, "--out", "o", "--overwrite"], work, home)
    _one_clean_line(done, "read-only")
    assert snapshot(work) == before and _leftovers(work) == []


def _mount_read_only(where: Path) -> bool:
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def test_out_on_a_read_only_file_system(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    disk = tmp_path / "ro"
    if not _mount_read_only(disk):
        pytest.skip("cannot mount a read-only tmpfs here (needs root); the injected EROFS tests cover it")
    try:
        o = run_cli([*SIM, "--out", str(disk / "o")], tmp_path, capsys)
        tally_and_check(o)
        assert "not writable" in o.err or "read-only" in o.err
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_permission_error_while_writing_leaves_nothing(code: int, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch) -> None:
    """The check passed (a file system that lies, a folder made read-only during the run): the
    writer fails part way; the staging folder goes, the user's files stay."""
    import dermsim.io.parquet as pq_mod

    def denied(*a, **k):
        raise OSError(code, os.strerror(code), str(a[1]) if len(a) > 1 else None)

    monkeypatch.setattr(pq_mod.pq, "write_table", denied)
    (tmp_path / "notes.txt").write_text("mine\n")
    o = run_cli([*SIM, "--out", "o"], tmp_path, capsys)
    tally_and_check(o)
    assert ("permission denied" if code == errno.EACCES else "read-only") in o.err
    assert _leftovers(tmp_path) == []


def test_read_only_at_the_final_swap_keeps_the_earlier_output(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch) -> None:
    """``--overwrite`` swaps the finished output in with two renames; when the second one fails
    (EROFS), the earlier output is put back whole, not left renamed aside."""
    from dermsim.cli import main

    assert main([*SIM, "--out", str(tmp_path / "o")]) == 0
    (tmp_path / "notes.txt").write_text("mine\n")
    real = os.replace

    def swap(src, dst, *a, **k):
        if Path(src).name.startswith(".dermsim-staging-o-") and not Path(src).name.endswith("-old") \
                and Path(dst).name == "o":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", swap)
    o = run_cli(["trial", "simulate", "true-ad3", "--seed", "2", "--n", "6", "--no-extension", "--out", "o",
                 "--overwrite"], tmp_path, capsys)
    tally_and_check(o)
    assert "read-only" in o.err and _leftovers(tmp_path) == []
