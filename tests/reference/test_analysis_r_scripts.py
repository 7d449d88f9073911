"""The R reference numbers of the analysis layer are what their scripts write.

Runs ``Rscript tests/reference/r/pilot_outputs.R PILOT_DIR OUT`` and
``Rscript tests/reference/r/mice_pool.R OUT`` into a temporary folder and compares with the
committed CSVs, so that every expected number in ``tests/reference/r/`` traces to its R call.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

R_DIR = Path(__file__).resolve().parent / "r"


def _rscript(*args: str) -> None:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (scripts/install-external.sh installs it)")
    res = subprocess.run(["Rscript", *args], capture_output=True, text=True, timeout=300, check=False)
    if res.returncode != 0 and "there is no package called" in res.stderr:
        pytest.skip(f"an R package is missing: {res.stderr.strip().splitlines()[-1]}")
    assert res.returncode == 0, res.stderr


def _same(a: Path, b: Path) -> None:
    got, want = (pd.read_csv(p, keep_default_na=False) for p in (a, b))
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


@pytest.mark.external
def test_pilot_r_numbers_are_reproducible(shared_dir: Path, tmp_path: Path) -> None:
    pilot = shared_dir / "data" / "cdisc_pilot"
    if not pilot.is_dir():
        pytest.skip(f"CDISC pilot data not found at {pilot}")
    _rscript(str(R_DIR / "pilot_outputs.R"), str(pilot), str(tmp_path))
    _same(tmp_path / "pilot_outputs.csv", R_DIR / "pilot_outputs.csv")


@pytest.mark.external
def test_mice_pool_numbers_are_reproducible(tmp_path: Path) -> None:
    _rscript(str(R_DIR / "mice_pool.R"), str(tmp_path))
    for name in ("mice_pool_fits.csv", "mice_pool_pooled.csv", "mice_pool_scalar.csv"):
        _same(tmp_path / name, R_DIR / name)
