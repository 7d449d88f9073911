"""Hypothesis strategies for the dataset round-trip tests: frames with character, numeric,
integer, date and datetime variables, each with missing values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import strategies as st

# XPT pads character values with blanks, so trailing blanks are not data (as in SAS).
_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=24).map(str.rstrip)
_TEXT_UNICODE = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")),
                        max_size=12).map(str.rstrip)
# Magnitudes the IBM floats of XPT hold (about 5.4e-79 .. 7.2e75).
_FLOAT = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or 1e-75 < abs(x) < 1e75)
_DATE = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
_DATETIME = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)).map(
    lambda d: d.replace(microsecond=0))


@st.composite
def adam_frames(draw: st.DrawFn, *, unicode: bool = False, integers: bool = True,
                max_rows: int = 12) -> pd.DataFrame:
    n = draw(st.integers(0, max_rows))
    text = _TEXT_UNICODE if unicode else _TEXT
    cols: dict[str, object] = {
        "USUBJID": draw(st.lists(text, min_size=n, max_size=n)),
        "AVAL": draw(st.lists(st.one_of(st.none(), _FLOAT), min_size=n, max_size=n)),
        "ADT": draw(st.lists(st.one_of(st.none(), _DATE), min_size=n, max_size=n)),
        "ADTM": draw(st.lists(st.one_of(st.none(), _DATETIME), min_size=n, max_size=n)),
        "EMPTYC": [""] * n,
    }
    frame = pd.DataFrame({
        "USUBJID": pd.Series(cols["USUBJID"], dtype=object),
        "AVAL": pd.Series([np.nan if v is None else v for v in cols["AVAL"]], dtype="float64"),
        "ADT": pd.to_datetime(pd.Series(cols["ADT"], dtype=object)).astype("datetime64[ns]"),
        "ADTM": pd.to_datetime(pd.Series(cols["ADTM"], dtype=object)).astype("datetime64[ns]"),
        "EMPTYC": pd.Series(cols["EMPTYC"], dtype=object),
    })
    if integers:
        frame["N"] = pd.Series(draw(st.lists(st.integers(-(2**53), 2**53), min_size=n, max_size=n)),
                               dtype="int64")
    return frame
