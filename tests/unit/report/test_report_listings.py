"""Listings show ADaM records as recorded, filtered and sorted as declared."""

from __future__ import annotations

import pandas as pd
import pytest

from dermsim.errors import DataValidationError
from dermsim.report.listings import AD_LISTINGS, ListingLayout, build_listing, build_listings
from dermsim.report.rtf import render_table_rtf


def _adae() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "USUBJID": ["S-3", "S-1", "S-2", "S-1"],
            "TRTA": ["B", "A", "A", "A"],
            "TRTAN": [2.0, 1.0, 1.0, 1.0],
            "AGE": [7.0, 4.0, 9.0, 4.0],
            "AEBODSYS": ["Infections"] * 4,
            "AEDECOD": ["Otitis", "COVID-19", "Rash", "Cough"],
            "AESEV": ["SEVERE", "MILD", "MODERATE", "SEVERE"],
            "AESER": ["N", "N", "Y", "N"],
            "ASTDY": [12.0, 3.0, 40.0, 8.0],
            "AENDY": [15.0, 5.0, float("nan"), 9.0],
            "AEOUT": ["RECOVERED"] * 4,
            "TRTEMFL": ["Y", "Y", "Y", "N"],
        }
    )


def test_filter_sort_and_text() -> None:
    lay = next(x for x in AD_LISTINGS if x.dataset == "adae")
    t = build_listing(lay, _adae())
    # severe or serious and treatment-emergent: S-3 (severe), S-2 (serious); S-1's severe cough is not TEAE
    assert [r.label for r in t.rows] == ["S-2", "S-3"]
    assert t.rows[0].cells[:2] == ("A", "9") and t.rows[0].cells[-2] == ""  # missing end day is blank
    assert t.meta["records"] == 2 and t.label == "Listing"
    text = render_table_rtf(t)
    assert "Listing 16.2.7" in text and "Otitis" in text and "COVID-19" not in text


def test_no_records_and_missing_variable() -> None:
    lay = ListingLayout(
        name="x",
        number="16.9",
        title="X",
        dataset="adae",
        where='AESEV == "FATAL"',
        columns=(("USUBJID", "Subject"), ("AESEV", "Severity")),
    )
    assert build_listing(lay, _adae()).rows[0].label == "No records."
    with pytest.raises(DataValidationError, match="lacks variable AEREL"):
        build_listing(
            ListingLayout(
                name="y",
                number="16.9",
                title="Y",
                dataset="adae",
                where="",
                columns=(("USUBJID", "Subject"), ("AEREL", "Related")),
            ),
            _adae(),
        )
    assert [t.name for t in build_listings({"adae": _adae()})] == ["l16-2-7-severe-serious-teae"]
