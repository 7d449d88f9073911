"""Skin-barrier-by-age facts (the non-trial basis of the child penetration prior) load, and the
derived TEWL ratio follows from its two published values."""

from __future__ import annotations

import pytest

from dermsim.evidence import load_evidence


def test_tewl_ratio_is_derived_from_the_published_values():
    f = load_evidence().skin_age.facts
    assert (f["tewl_children_g_m2_h"].value, f["tewl_adults_g_m2_h"].value) == (6.2, 5.4)
    ratio = f["tewl_ratio_child_adult"]
    assert ratio.status == "D"
    child, adult = f["tewl_children_g_m2_h"].value, f["tewl_adults_g_m2_h"].value
    assert ratio.value == pytest.approx(child / adult, abs=0.005)


def test_no_ruxolitinib_source_is_used():
    # The prior must come from non-trial physiology literature, never from ruxolitinib trials.
    sk = load_evidence().skin_age
    assert all("ruxolitinib" not in s.citation.lower() for s in sk.sources.values())
    assert sk.facts["sc_thickness_children_vs_adults"].status == "C"
