"""Fixtures of the report tests: the hand-written ARD of :mod:`tiny_report_ard`."""

from __future__ import annotations

import pandas as pd
import pytest
import tiny_report_ard


@pytest.fixture
def tiny_ard() -> pd.DataFrame:
    return tiny_report_ard.tiny_ard()
