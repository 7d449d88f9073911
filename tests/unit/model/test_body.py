"""Body surface: BSA formulas, Lund-Browder sizes by age, lesion maps, EASI regions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dermsim.errors import InvalidInputError
from dermsim.model.population import body

AGES = st.floats(min_value=0.0, max_value=100.0, allow_nan=False)
FORMULAS = ("mosteller", "haycock", "dubois", "gehan_george")


def test_bsa_formulas_by_hand() -> None:
    """Mosteller sqrt(H W / 3600); Haycock 0.024265 H^0.3964 W^0.5378 (clinical_facts.md 6b),
    evaluated here with math.pow as an independent check of the vectorized code."""
    h, w = np.array([110.0, 176.0]), np.array([18.0, 70.0])
    assert body.compute_bsa_m2(h, w) == pytest.approx(np.sqrt(h * w / 3600), rel=1e-14)
    hay = [0.024265 * math.pow(x, 0.3964) * math.pow(y, 0.5378) for x, y in zip(h, w, strict=True)]
    assert body.compute_bsa_m2(h, w, "haycock") == pytest.approx(hay, rel=1e-14)
    assert body.default_bsa_formula() == "mosteller"


@settings(max_examples=60, deadline=None)
@given(h=st.floats(50, 210), w=st.floats(8, 150), dh=st.floats(0.1, 20), dw=st.floats(0.1, 20),
       formula=st.sampled_from(FORMULAS))
def test_bsa_grows_with_weight_and_height(h: float, w: float, dh: float, dw: float, formula: str) -> None:
    base = body.compute_bsa_m2(h, w, formula)[0]
    assert body.compute_bsa_m2(h + dh, w, formula)[0] > base
    assert body.compute_bsa_m2(h, w + dw, formula)[0] > base


def test_bsa_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError, match=r"weight_kg must be > 0; got -3"):
        body.compute_bsa_m2([100.0], [-3.0])
    with pytest.raises(InvalidInputError, match="formula must be one of"):
        body.compute_bsa_m2([100.0], [20.0], "boyd")


@settings(max_examples=80, deadline=None)
@given(ages=arrays(np.float64, st.integers(1, 50), elements=AGES))
def test_region_sizes_sum_to_100_at_every_age(ages: np.ndarray) -> None:
    sizes = body.compute_region_sizes_pct(ages)
    assert sizes.shape == (ages.size, len(body.region_names()))
    assert np.all(sizes > 0)
    np.testing.assert_allclose(sizes.sum(axis=1), 100.0, atol=1e-10)


def test_region_sizes_at_chart_columns_and_between() -> None:
    names = body.region_names()
    head, thighs = names.index("head"), names.index("thighs")
    sizes = body.compute_region_sizes_pct([0, 1, 5, 7.5, 10, 15, 18, 60])
    np.testing.assert_allclose(sizes[:, head], [19, 17, 13, 12, 11, 9, 7, 7], atol=1e-12)
    np.testing.assert_allclose(sizes[:, thighs], [11, 13, 16, 16.5, 17, 18, 19, 19], atol=1e-12)
    assert np.all(np.diff(body.compute_region_sizes_pct(np.linspace(0, 30, 61))[:, head]) <= 0)


def test_easi_weights_switch_at_8() -> None:
    w = body.compute_easi_weights([2.0, 7.999, 8.0, 40.0])
    np.testing.assert_array_equal(w[0], [0.2, 0.3, 0.2, 0.3])
    np.testing.assert_array_equal(w[1], [0.2, 0.3, 0.2, 0.3])
    np.testing.assert_array_equal(w[2], [0.1, 0.3, 0.2, 0.4])
    np.testing.assert_array_equal(w[3], [0.1, 0.3, 0.2, 0.4])


def test_easi_regions_cover_the_body() -> None:
    sizes = body.compute_easi_region_sizes_pct([1.0, 6.5, 30.0])
    np.testing.assert_allclose(sizes.sum(axis=1), 100.0, atol=1e-12)
    # adult: head 7 + neck 2; trunk 13 + 13 + genitalia 1; arms 8 + 6 + 5; legs 5 + 19 + 14 + 7
    np.testing.assert_allclose(sizes[2], [9, 27, 19, 45], atol=1e-12)


@st.composite
def _lesion_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 20))
    ages = draw(arrays(np.float64, n, elements=st.floats(0, 90)))
    affected = draw(arrays(np.float64, n, elements=st.floats(0.0, 100.0)))
    raw = draw(arrays(np.float64, (n, len(body.region_names())), elements=st.floats(0.0, 1.0)))
    raw[:, 0] += 1e-3  # at least one region with weight
    return ages, affected, raw / raw.sum(axis=1, keepdims=True)


@settings(max_examples=100, deadline=None)
@given(case=_lesion_case())
def test_affected_area_never_exceeds_a_region_and_sums(case: tuple) -> None:
    ages, affected, props = case
    sizes = body.compute_region_sizes_pct(ages)
    lesions = body.compute_lesion_map(affected, props, sizes)
    assert np.all(lesions >= 0)
    assert np.all(lesions <= sizes + 1e-12)
    np.testing.assert_allclose(lesions.sum(axis=1), affected, atol=1e-9)
    easi = body.compute_easi_region_pct(lesions, ages)
    assert np.all((easi >= 0) & (easi <= 100))
    # back to % of total BSA through the EASI region sizes
    np.testing.assert_allclose((easi * body.compute_easi_region_sizes_pct(ages)).sum(axis=1) / 100,
                               affected, atol=1e-8)


def test_water_filling_moves_overflow_to_regions_with_room() -> None:
    sizes = body.compute_region_sizes_pct([30.0])
    props = np.zeros((1, sizes.shape[1]))
    props[0, body.region_names().index("genitalia")] = 0.9  # 1% region asked for 18%
    props[0, body.region_names().index("hands")] = 0.1
    lesions = body.compute_lesion_map(np.array([20.0]), props, sizes)
    gen, hands = body.region_names().index("genitalia"), body.region_names().index("hands")
    assert lesions[0, gen] == pytest.approx(1.0)
    assert lesions[0, hands] == pytest.approx(5.0)  # filled too: 20 - 1 > what hands hold
    assert lesions.sum() == pytest.approx(20.0)


def test_site_preference_blends_child_to_adult() -> None:
    pref = body.compute_site_preference([5.0, 15.0, 40.0])
    names = body.region_names()
    i = names.index("hands")
    assert pref[0, i] == body.SITE_PREFERENCE_CHILD["hands"]
    assert pref[2, i] == body.SITE_PREFERENCE_ADULT["hands"]
    assert pref[1, i] == pytest.approx(0.5 * (body.SITE_PREFERENCE_CHILD["hands"]
                                              + body.SITE_PREFERENCE_ADULT["hands"]))


def test_easi_area_score_bands() -> None:
    """Hanifin 2001 bands: 0 none, 1 (<10%), 2 (10-29), 3 (30-49), 4 (50-69), 5 (70-89), 6 (90-100)."""
    pct = np.array([0, 0.01, 9.99, 10, 29.9, 30, 49.9, 50, 69.9, 70, 89.9, 90, 100])
    np.testing.assert_array_equal(body.compute_easi_area_score(pct), [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6])
    term = body.compute_easi_area_term(np.array([[5.0, 0.0, 35.0, 95.0]]), [9.0])
    assert term[0] == pytest.approx(0.1 * 1 + 0.3 * 0 + 0.2 * 3 + 0.4 * 6)


def test_drop_specks_keeps_totals_and_caps() -> None:
    sizes = body.compute_region_sizes_pct([6.0, 6.0])
    lesions = np.zeros_like(sizes)
    lesions[0, :3] = [4.0, 0.05, 0.02]      # two specks go to the head
    lesions[1, :] = 0.01                    # all specks: the largest (first, stable) is kept
    out = body.drop_specks(lesions, sizes, 0.1)
    np.testing.assert_allclose(out.sum(axis=1), lesions.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(out[0, :3], [4.07, 0.0, 0.0], atol=1e-12)
    assert np.count_nonzero(out[1]) == 1 and np.all(out <= sizes + 1e-12)
