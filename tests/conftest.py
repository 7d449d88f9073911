"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# dermsim's disk cache (dermsim._disk_cache) in the checkout's build folder, for this process and the
# commands the tests start: the tests neither read nor fill the user's own cache, and the first
# process to fit a population's severity law saves it for the others
os.environ["DERMSIM_CACHE_DIR"] = str(ROOT / "build" / "test-cache")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder ``../shared`` beside the checkout (CDISC pilot, CAMIS references).

    Skips the test when it is absent (a fresh clone without the shared data)."""
    path = (ROOT.parent / "shared").resolve()
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    return path
