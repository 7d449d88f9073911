"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared data folder ``../shared`` beside the checkout (CDISC pilot, CAMIS references).

    Skips the test when it is absent (a fresh clone without the shared data)."""
    path = (ROOT.parent / "shared").resolve()
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    return path
