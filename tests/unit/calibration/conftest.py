"""Shared fixtures of the calibration tests."""

from __future__ import annotations

import pytest

from dermsim.calibration.posterior import resolve_model


@pytest.fixture(scope="module")
def shipped():
    """The shipped posterior (skips where the package's posterior cannot be used)."""
    model = resolve_model("shipped")
    if model.posterior is None:
        pytest.skip(f"no usable shipped posterior ({model.fallback})")
    return model.posterior
