"""Study days as ISO 8601 dates, the one rule every domain uses."""

from __future__ import annotations

import numpy as np

__all__ = ["ad_dates"]


def ad_dates(start: np.ndarray, day: np.ndarray) -> np.ndarray:
    """ISO dates of study ``day`` (SDTM: day 1 is the reference start, no day 0)."""
    off = np.where(day >= 1, day - 1, day).astype("timedelta64[D]")
    return np.datetime_as_string(start + off, unit="D")
