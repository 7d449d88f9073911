"""No behaviour change: a small ``dermsim run`` (the code path of ``make demo``, on 40 subjects)
writes byte-identical files to the ones recorded in ``golden/run-true-ad3-n40-s7.json``.

The record holds the SHA-256 of every output file after the version fields are replaced by a
placeholder (the package version and ``code_version``'s commit change with every release and
commit, nothing else may). It was first recorded from ``main`` before the module moves of issue 19
(analysis/methods/, trial/domains/, one result base), so those moves are checked to be pure.

The run is a fresh process with NumPy's and OpenBLAS's CPU dispatch held at AVX2 (PINNED): their
AVX-512 code paths round a few results differently (NumPy's exp and log, OpenBLAS's SkylakeX
kernels), which moved the ARD's last digits between an AVX-512 machine, where the record was first
made, and an AVX2 one. dermsim's own compiled kernels need no pin: they are IEEE arithmetic without
FMA contraction, the same numbers on either. BLAS runs on one thread: the MMRM's fit moved in the
13th digit between one and two OpenBLAS threads, and the thread count otherwise follows the machine's
cores and whatever the test process inherited (a Dask nanny started in the same pytest worker leaves
OPENBLAS_NUM_THREADS=1 in its environment).

A change that is meant to change outputs (a model, analysis or layout change) records the file
again, and says so in its commit: ``DERMSIM_UPDATE_GOLDEN=1 pytest tests/e2e/test_outputs_unchanged.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dermsim import __version__
from dermsim.calibration.posterior import code_version

GOLDEN = Path(__file__).parent / "golden" / "run-true-ad3-n40-s7.json"
ARGS = ["run", "true-ad3", "--n", "40", "--seed", "7"]
# AVX2 paths on every x86-64 machine that has them (names that a machine lacks are ignored)
PINNED = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR", "OPENBLAS_CORETYPE": "Haswell",
          "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _digests(root: Path) -> dict[str, str]:
    versions = [v.encode() for v in dict.fromkeys([code_version(), __version__]) if v]
    out: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for v in versions:  # the longer code_version first: it starts with the package version
            data = data.replace(v, b"<VERSION>")
        out[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


@pytest.mark.slow
def test_small_run_outputs_are_byte_identical_to_the_record(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "dermsim", *ARGS, "--out", str(out)], capture_output=True,
                          text=True, env={**os.environ, **PINNED}, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    got = _digests(out)
    if os.environ.get("DERMSIM_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps({"command": ["dermsim", *ARGS], "sha256": got}, indent=1) + "\n")
        pytest.skip(f"recorded {GOLDEN.name} again ({len(got)} files)")
    want = json.loads(GOLDEN.read_text())["sha256"]
    assert sorted(got) == sorted(want), "files written differ from the record"
    changed = sorted(k for k in want if got[k] != want[k])
    assert not changed, f"outputs changed (bytes differ): {changed}"
