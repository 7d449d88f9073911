"""The label: strengths, limits by age (2-11 y gram limit NF), warnings."""

from __future__ import annotations

import pytest

from dermsim.errors import InvalidInputError
from dermsim.evidence import load_evidence


@pytest.fixture(scope="module")
def label():
    return load_evidence().label


def test_strength_and_packs(label):
    assert label.facts["strength_pct"].value == 1.5
    assert label.facts["strength_mg_per_g"].value == 15
    assert label.facts["pack_sizes_g"].value == [5, 60, 100]
    assert label.facts["indication_min_age_y"].value == 2
    assert label.facts["max_bsa_pct"].value == 20
    assert label.facts["dose_frequency_per_day"].value == 2


def test_adult_limit_is_60_g_per_week(label):
    for age in (12, 30.5, 80):
        entry = label.max_amount_for_age(age)
        assert (entry.g_per_week.value, entry.g_per_2_weeks.value) == (60, 100)
        assert entry.g_per_week.status == "C"


@pytest.mark.parametrize("age", [2, 6.5, 11.99])
def test_child_gram_limit_is_not_found_and_has_no_number(label, age):
    entry = label.max_amount_for_age(age)
    assert entry.g_per_week.status == "NF" and entry.g_per_week.value is None
    assert entry.g_per_week.number is None
    assert entry.g_per_2_weeks.value is None


def test_age_below_label_is_rejected(label):
    with pytest.raises(InvalidInputError, match=r"age_y must fall in a labelled age group .*; got 1\.5\."):
        label.max_amount_for_age(1.5)


def test_boxed_warning_topics_and_basis(label):
    ids = [t.id for t in label.boxed_warning.topics]
    assert ids == ["serious-infections", "mortality", "malignancy", "mace", "thrombosis"]
    assert "oral JAK inhibitors" in label.boxed_warning.basis.value
    lipids = next(w for w in label.other_warnings if w.id == "lipids")
    assert lipids.status == "U"


def test_molecular_weights(label):
    assert label.facts["mw_free_base_g_per_mol"].value == 306.37
    assert label.facts["mw_free_base_g_per_mol"].status == "D"
    assert label.facts["mw_phosphate_label_g_per_mol"].status == "U"
