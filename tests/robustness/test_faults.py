"""Faults: kill -9 at random points (rerun or resume gives the same bytes, nothing left over), SIGTERM,
disk full (a small tmpfs where mount works, an injected ENOSPC everywhere), a corrupt DuckDB store,
valid but awkward output paths, RTF injection and the local Dask cluster's exposure."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from robustness.corpus import run_cli, snapshot, tally_and_check

ENV = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "1700000000"}


def _digests(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in skip}


def _dermsim(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dermsim", *args], cwd=cwd, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".dermsim-staging-")
                  or p.name.endswith(".part") or p.name.endswith(".old"))


def _kill_at_random(args: list[str], cwd: Path, seed: int, span: float) -> None:
    proc = _dermsim(args, cwd)
    time.sleep(random.Random(seed).uniform(0.2, span))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


# the design report states its wall time; everything else is a pure function of the inputs
_VOLATILE = ("report.html", ".dermsim-files.json", "design.duckdb", "design.duckdb.wal")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [7])
@pytest.mark.parametrize("command", ["trial", "run", "design"])
def test_kill9_then_rerun_or_resume_is_byte_identical(command: str, seed: int, tmp_path: Path) -> None:
    args = {
        "trial": ["trial", "simulate", "true-ad3", "--seed", "5", "--n", "8", "--no-extension"],
        "run": ["run", "true-ad3", "--seed", "5", "--n", "8"],
        "design": ["design", "power", "true-ad3", "--seed", "5", "--n", "40", "--replicates", "4",
                   "--chunk-size", "1", "--replicate-block", "1", "--parameters", "prior", "--quiet"],
    }[command]
    ref = tmp_path / "ref"
    ref.mkdir()
    assert subprocess.run([sys.executable, "-m", "dermsim", *args, "--out", "o"], cwd=ref, env=ENV,
                          capture_output=True).returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine\n")
    t0 = time.perf_counter()
    _kill_at_random([*args, "--out", "o"], work, seed, span=8.0)
    again = ["--resume"] if command == "design" else ["--overwrite"]
    if command != "design" and not (work / "o").exists():
        again = []
    done = subprocess.run([sys.executable, "-m", "dermsim", *args, "--out", "o", *again], cwd=work, env=ENV,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _digests(work / "o", _VOLATILE) == _digests(ref / "o", _VOLATILE)
    assert _leftovers(work) == []
    assert (work / "notes.txt").read_text() == "mine\n"
    assert time.perf_counter() - t0 < 300


@pytest.mark.slow
def test_sigterm_removes_the_staging_folder(tmp_path: Path) -> None:
    proc = _dermsim(["run", "true-ad3", "--seed", "5", "--n", "8", "--out", "o"], tmp_path)
    time.sleep(4.0)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    if proc.returncode == 0 and (tmp_path / "o").exists():
        pytest.skip("the run finished before SIGTERM on this machine")
    # an interrupt, not a success (typer returns its Exit(130), which the run once reported as exit
    # code 0): 130, or -2, seen once on a loaded machine: the message printed, then the interpreter
    # ended by SIGINT during its shutdown (Python's exit for an interrupt that escapes there)
    assert proc.returncode in (130, -signal.SIGINT)
    assert "interrupted" in proc.stderr.read().decode()
    assert _leftovers(tmp_path) == []
    assert not (tmp_path / "o").exists()


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


@pytest.mark.slow
def test_disk_full_on_a_small_tmpfs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount_tmpfs(disk, "256k"):
        pytest.skip("cannot mount a tmpfs here (needs root); the injected ENOSPC test covers it")
    try:
        (disk / "notes.txt").write_text("mine\n")
        o = run_cli(["trial", "simulate", "true-ad3", "--seed", "1", "--n", "12", "--out", "o"], disk, capsys)
        tally_and_check(o)
        assert "no space left" in o.err
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_disk_full_injected(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    import dermsim.io.parquet as pq_mod

    def full(*a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(a[1]) if len(a) > 1 else None)

    monkeypatch.setattr(pq_mod.pq, "write_table", full)
    (tmp_path / "notes.txt").write_text("mine\n")
    o = run_cli(["trial", "simulate", "true-ad3", "--seed", "1", "--n", "6", "--no-extension", "--out", "o"],
                tmp_path, capsys)
    tally_and_check(o)
    assert "no space left on the device" in o.err


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"DUCK" + b"\x00" * 4096])
def test_corrupt_store_is_one_line(content: bytes, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "design.duckdb").write_bytes(content)
    o = run_cli(["design", "power", "true-ad3", "--seed", "1", "--n", "40", "--replicates", "2", "--out", "o",
                 "--resume", "--parameters", "prior", "--quiet"], tmp_path, capsys)
    tally_and_check(o)


def test_overwrite_keeps_the_users_files(valid_trial: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from dermsim.cli import main

    out = tmp_path / "o"
    assert main(["data", "convert", str(valid_trial / "adam"), "--out", str(out), "--format", "csv"]) == 0
    (out / "my-notes.docx").write_text("keep me\n")
    before = snapshot(out)
    assert main(["data", "convert", str(valid_trial / "adam"), "--out", str(out), "--format", "json"]) == 2
    assert snapshot(out) == before
    assert main(["data", "convert", str(valid_trial / "adam"), "--out", str(out), "--format", "json",
                 "--overwrite"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "my-notes.docx" in names and "adsl.json" in names and "adsl.csv" not in names
    assert (out / "my-notes.docx").read_text() == "keep me\n"
    assert _leftovers(tmp_path) == []


def test_outputs_follow_the_umask(valid_trial: Path, tmp_path: Path) -> None:
    from dermsim.cli import main

    old = os.umask(0o027)
    try:
        assert main(["data", "convert", str(valid_trial / "adam"), "--out", str(tmp_path / "o"),
                     "--format", "csv"]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "o").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "o" / "adsl.csv").stat().st_mode & 0o777 == 0o640


def test_stale_staging_of_a_dead_process_is_removed(valid_trial: Path, tmp_path: Path) -> None:
    from dermsim.cli import main

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".dermsim-staging-o-{dead}.abcd1234"
    stale.mkdir()
    (stale / "big.bin").write_bytes(b"x" * 1000)
    legacy = tmp_path / ".o.k2j4h5g6.part"
    legacy.mkdir()
    assert main(["data", "convert", str(valid_trial / "adam"), "--out", str(tmp_path / "o"), "--format",
                 "csv"]) == 0
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_apostrophe_and_spaces_in_out_for_design(tmp_path: Path) -> None:
    from dermsim.cli import main

    out = tmp_path / "it's my run"
    assert main(["design", "power", "true-ad3", "--seed", "1", "--n", "40", "--replicates", "2", "--out",
                 str(out), "--parameters", "prior", "--quiet"]) == 0
    assert (out / "results.parquet").is_file()


def test_rtf_text_is_escaped() -> None:
    from dermsim.report.rtf import render_table_rtf, rtf_escape
    from dermsim.report.tables import BodyRow, TableData

    assert rtf_escape("}{\\rtf1 x}") == "\\}\\{\\\\rtf1 x\\}"
    assert rtf_escape("é ≥ 😀") == "\\u233? \\u8805? \\u-10179?\\u-8704?"
    assert rtf_escape("a\tb\nc\x07") == "a\\tab b\\line c"
    evil = "}{\\rtf1\\ansi\\deff0{\\field{\\*\\fldinst HYPERLINK \"http://x\"}}}"
    t = TableData(name="t", number="1", title=evil, population="p", stub_label="s", columns=(evil,),
                  column_n=("(N=1)",), rows=(BodyRow(label=evil, indent=0, cells=(evil,)),),
                  footnotes=(evil,), source=evil)
    text = render_table_rtf(t)
    assert "{\\rtf1\\ansi\\deff0{\\field" not in text
    assert text.count("\\fldinst") == 0 or "\\\\fldinst" in text
    assert text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")


@pytest.mark.slow
def test_local_dask_cluster_has_no_http_and_listens_on_localhost() -> None:
    pytest.importorskip("distributed")
    from distributed import Client

    from dermsim.design.distributed import _local_cluster

    before = dict(os.environ)
    cluster = _local_cluster(1, dashboard=False)
    try:
        # the nanny's pre-spawn variables (OPENBLAS_NUM_THREADS=1, ...) are not left in this process
        assert dict(os.environ) == before
        assert cluster.scheduler.address.startswith("tcp://127.0.0.1:")
        assert not cluster.scheduler.http_server._sockets
        with Client(cluster) as client:
            info = client.run(lambda dask_worker: (dask_worker.address,
                                                   len(dask_worker.http_server._sockets)))
        for address, n_http in info.values():
            assert address.startswith("tcp://127.0.0.1:") and n_http == 0
    finally:
        cluster.close()
