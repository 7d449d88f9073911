"""Topical PK, second version: absorbed flux per application, FTU rule, exact propagation, Css,
kinetic summaries, and the monotonicity / area-independence properties of issue 12."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.engine import compute_transition, propagate
from dermsim.errors import InvalidInputError
from dermsim.model.parameters import compute_individual_values, default_parameters
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.regimen import Regimen


def _patient_pk(area_pct=10.0, weight=70.0, bsa=1.8, n=1, z=None, regimen=None, age=30.0, **values):
    params = default_parameters()
    ind = compute_individual_values(params, "pk", z, n)
    for k, v in values.items():
        ind[k] = np.full(n, float(v))
    reg = regimen or Regimen(strength_pct=1.5)
    return pk.derive_patient_pk(ind, reg, weight_kg=np.full(n, weight), bsa_m2=np.full(n, bsa),
                                affected_pct=np.full(n, area_pct), age_y=np.full(n, age))


def test_children_apply_their_usual_load_where_the_regimen_names_no_amount():
    """Under load_child_max_y the default cream per cm2 is g_per_cm2_child, from then on the FTU
    rule; a regimen's own g_per_cm2 or grams win at every age. The skin does not change: at the
    same grams a child and an adult of the same area absorb the same (age_pen_child = 1)."""
    params = default_parameters()
    child_g, adult_g = params.value("g_per_cm2_child"), params.value("g_per_cm2")
    limit = params.value("load_child_max_y")
    assert child_g < adult_g
    ages = np.array([2.0, limit - 1e-9, limit, 40.0])
    np.testing.assert_array_equal(pk.compute_usual_load_g_per_cm2(ages, adult_g, child_g, limit),
                                  [child_g, child_g, adult_g, adult_g])
    for age, load in ((6.0, child_g), (30.0, adult_g)):
        p = _patient_pk(age=age)
        np.testing.assert_allclose(p.grams, p.area_cm2 * load, rtol=1e-12)
        np.testing.assert_allclose(p.usual_g_per_cm2, load, rtol=1e-12)
        given_load = _patient_pk(age=age, regimen=Regimen(strength_pct=1.5, g_per_cm2=0.002))
        np.testing.assert_allclose(given_load.grams, given_load.area_cm2 * 0.002, rtol=1e-12)
    child, adult = _patient_pk(age=6.0), _patient_pk(age=30.0)
    np.testing.assert_allclose(pk.compute_absorbed_mg(child, 1.0, 1.5, 0.75),
                               pk.compute_absorbed_mg(adult, 1.0, 1.5, 0.75), rtol=1e-12)


def test_the_child_load_is_the_pediatric_maximum_use_trials_amount():
    """pk.toml g_per_cm2_child equals the evidence's derived load (8.5 g/day, 2 applications, 58 %
    of a mean 0.90 m2), so the number has one source."""
    from dermsim.evidence import load_evidence

    topical = load_evidence().pharmacology.topical
    derived = (topical["cream_use_children_g_per_day"].number / 2
               / (topical["cream_use_children_bsa_pct"].number / 100 * 0.90e4))
    assert derived * 1000 == pytest.approx(topical["cream_load_children_mg_per_cm2"].number, abs=0.01)
    assert default_parameters().value("g_per_cm2_child") * 1000 == pytest.approx(
        topical["cream_load_children_mg_per_cm2"].number, rel=1e-9)


def test_grams_from_fingertip_unit_rule_or_as_given():
    # 1 FTU (0.5 g) per 286 cm2 -> 1000 cm2 gets 1000 * 0.5/286 g; 1.5 % = 15 mg/g
    g = pk.compute_grams_per_application(Regimen(strength_pct=1.5, g_per_cm2=0.5 / 286),
                                         np.array([1000.0]), 0.0)
    np.testing.assert_allclose(pk.compute_dose_mg(g, 1.5), 15.0 * 1000 * 0.5 / 286, rtol=1e-12)
    fixed = pk.compute_grams_per_application(Regimen(strength_pct=0.75, grams_per_application=2.0),
                                             np.array([5.0]), 1.0)
    np.testing.assert_allclose(pk.compute_dose_mg(fixed, 0.75), 15.0, rtol=1e-12)
    # a regimen's grams win over the FTU rule in the patient PK
    p = _patient_pk(regimen=Regimen(strength_pct=1.5, grams_per_application=3.0))
    assert p.grams[0] == 3.0


def test_absorbed_follows_the_flux_formula_and_is_capped_at_the_dose():
    p = _patient_pk(Jmax=2.0, L50=2.0, gamma=0.5, theta_damage=0.5)
    area = p.area_cm2[0]
    grams = area * 2e-3                                   # load 2 mg/cm2 = L50
    got = pk.compute_absorbed_mg(p, grams, 0.375, 0.75 / 4)[0]   # s/s_ref = 1/4, damage/ref = 1/4
    want = area * 2e-3 * 0.5 * 0.5 * 0.5                   # Jmax (mg/cm2) x 1/2 x 1/2 x 1/2
    np.testing.assert_allclose(got, want, rtol=1e-12)
    huge = _patient_pk(Jmax=1e6)
    assert pk.compute_absorbed_mg(huge, 1.0, 1.5, 0.9)[0] == pytest.approx(15.0)   # whole dose, no more
    assert pk.compute_absorbed_mg(p, 1.0, 0.0, 0.9)[0] == 0.0                      # vehicle
    with pytest.raises(InvalidInputError, match="grams and strength_pct"):
        pk.compute_absorbed_mg(p, -1.0, 1.5, 0.5)


def test_css_matches_the_simulated_steady_state_average():
    p = _patient_pk()
    phi = compute_transition(pk.compute_rate_matrix(p), 0.25)
    dose = pk.compute_absorbed_mg(p, p.grams, 1.5, 0.6)
    x = np.zeros((pk.N_PK, 1))
    conc, local = [], []
    for step in range(int(120 * 24 / 0.25)):
        t = (step * 0.25) % 24
        if t in (0.0, 8.0):
            x[pk.SURF] += dose
        x = propagate(phi, x)
        if step >= 119 * 96:
            conc.append(pk.compute_plasma_nM(x, p)[0])
            local.append(pk.compute_local_exposure(x, p)[0])
    # the slow reservoir (t1/2 ~ 140 h) is within 0.5 % of steady state after 120 days
    np.testing.assert_allclose(np.mean(conc), pk.compute_css_nM(p, p.grams, 1.5, 2, 0.6)[0], rtol=5e-3)
    np.testing.assert_allclose(np.mean(local), pk.compute_css_local_u(p, p.grams, 1.5, 2, 0.6)[0], rtol=5e-3)


def test_typical_adult_css_is_tens_of_nM_and_far_below_281():
    p = _patient_pk()
    css_075 = pk.compute_css_nM(p, p.grams, 0.75, 2, 0.75)[0]
    css_15 = pk.compute_css_nM(p, p.grams, 1.5, 2, 0.75)[0]
    assert 5.0 < css_075 < css_15 < 100.0
    assert css_15 < 281.0 / 3
    # strength non-linearity: Css ratio 2^gamma (gamma 0.58 -> 1.49; published 35.7/23.8 = 1.50)
    np.testing.assert_allclose(css_15 / css_075, 2 ** 0.58, rtol=1e-12)


def test_kinetic_summaries_of_the_prior_centre_reach_the_published_kinetics():
    # the prior centre of k_a, f_fast, k_sv was set to reach them (pk.toml); CALIB refits
    s = pk.compute_kinetic_summaries(_patient_pk(), (0.0, 12.0))
    np.testing.assert_allclose(s["cmax_cmin"], 2.72, rtol=0.02)
    np.testing.assert_allclose(s["t_half_h"], 116.0, rtol=0.02)
    np.testing.assert_allclose(s["tmax_h"], 4.0, atol=0.25)
    # without a fast route there is almost no swing; a faster reservoir shortens the half-life
    slow = pk.compute_kinetic_summaries(_patient_pk(f_fast=0.0, k_sv=0.02), (0.0, 12.0))
    assert slow["cmax_cmin"][0] < 1.3 and slow["t_half_h"][0] < 60.0


def test_kinetic_summaries_are_vectorized_over_particles():
    n = 5
    z = {"k_a": np.linspace(-1, 1, n), "k_sv": np.linspace(1, -1, n)}
    p = _patient_pk(n=n, z=z)
    s = pk.compute_kinetic_summaries(p, (0.0, 12.0))
    for i in range(n):
        one = pk.compute_kinetic_summaries(p.select(slice(i, i + 1)), (0.0, 12.0))
        for k in s:
            np.testing.assert_allclose(s[k][i], one[k][0], rtol=1e-9)
    assert np.all(np.diff(s["t_half_h"]) > 0)             # k_sv falls along the particles
    with pytest.raises(InvalidInputError, match="multiples of dt_h"):
        pk.compute_kinetic_summaries(p, (0.0, 12.1))


def _steady_local(p, grams, strength):
    return pk.compute_css_local_u(p, grams, strength, 2, 0.6)[0]


@settings(max_examples=60, deadline=None)
@given(s1=st.floats(0.0, 3.0), s2=st.floats(0.0, 3.0), l1=st.floats(0.05, 20.0), l2=st.floats(0.05, 20.0),
       jmax=st.floats(0.05, 2000.0), damage=st.floats(0.0, 1.0))
def test_more_cream_per_area_or_strength_never_lowers_exposure(s1, s2, l1, l2, jmax, damage):
    lo_s, hi_s = sorted((s1, s2))
    lo_l, hi_l = sorted((l1, l2))
    p = _patient_pk(Jmax=jmax)                   # large Jmax: the dose cap binds
    area = p.area_cm2[0]
    g_lo, g_hi = lo_l * area / 1000.0, hi_l * area / 1000.0
    tol = 1 - 1e-12
    for a, b in (((g_lo, lo_s), (g_hi, lo_s)), ((g_lo, lo_s), (g_lo, hi_s)), ((g_lo, lo_s), (g_hi, hi_s))):
        assert pk.compute_absorbed_mg(p, *b, damage)[0] >= pk.compute_absorbed_mg(p, *a, damage)[0] * tol
        assert pk.compute_css_nM(p, *b, 2, damage)[0] >= pk.compute_css_nM(p, *a, 2, damage)[0] * tol
        assert (pk.compute_css_local_u(p, *b, 2, damage)[0]
                >= pk.compute_css_local_u(p, *a, 2, damage)[0] * tol)


@settings(max_examples=40, deadline=None)
@given(a1=st.floats(0.5, 60.0), a2=st.floats(0.5, 60.0), load=st.floats(0.1, 10.0), s=st.floats(0.1, 3.0))
def test_local_exposure_does_not_depend_on_treated_area_at_equal_load(a1, a2, load, s):
    p1, p2 = _patient_pk(area_pct=a1), _patient_pk(area_pct=a2)
    g1, g2 = load * p1.area_cm2[0] / 1000.0, load * p2.area_cm2[0] / 1000.0
    np.testing.assert_allclose(_steady_local(p1, g1, s), _steady_local(p2, g2, s), rtol=1e-10)
    # and the instantaneous index along a dosing day, through the exact propagation
    for_day = []
    for p, g in ((p1, g1), (p2, g2)):
        phi = compute_transition(pk.compute_rate_matrix(p), 2.0)
        x = np.zeros((pk.N_PK, 1))
        x[pk.SURF] += pk.compute_absorbed_mg(p, g, s, 0.6)
        us = []
        for _ in range(12):
            x = propagate(phi, x)
            us.append(pk.compute_local_exposure(x, p)[0])
        for_day.append(us)
    np.testing.assert_allclose(for_day[0], for_day[1], rtol=1e-10)
    # the systemic amount, by contrast, scales with the area
    if a1 > 1.01 * a2:
        assert pk.compute_css_nM(p1, g1, s, 2, 0.6)[0] > pk.compute_css_nM(p2, g2, s, 2, 0.6)[0]


@settings(max_examples=40, deadline=None)
@given(l1=st.floats(0.05, 20.0), l2=st.floats(0.05, 20.0), s=st.floats(0.1, 3.0), damage=st.floats(0.05, 1.0))
def test_bioavailability_falls_as_load_per_area_rises(l1, l2, s, damage):
    lo, hi = sorted((l1, l2))
    p = _patient_pk()
    area = p.area_cm2[0]
    f_lo = pk.compute_bioavailability(p, lo * area / 1000.0, s, damage)[0]
    f_hi = pk.compute_bioavailability(p, hi * area / 1000.0, s, damage)[0]
    assert f_hi <= f_lo * (1 + 1e-12)
    if hi > lo * 1.01:
        assert f_hi < f_lo


def test_bioavailability_rises_with_damage_and_the_child_multiplier():
    p = _patient_pk()
    f = [pk.compute_bioavailability(p, p.grams, 1.5, d)[0] for d in (0.2, 0.5, 0.9)]
    assert f[0] < f[1] < f[2]
    child = _patient_pk(age=6.0, age_pen_child=1.3)
    adult = _patient_pk(age=30.0, age_pen_child=1.3)
    np.testing.assert_allclose(pk.compute_absorbed_mg(child, 1.0, 1.5, 0.5),
                               1.3 * pk.compute_absorbed_mg(adult, 1.0, 1.5, 0.5), rtol=1e-12)
    # the shipped prior is no difference
    assert default_parameters().value("age_pen_child") == 1.0


def test_bad_regimen_inputs_name_the_field():
    with pytest.raises(InvalidInputError, match="strength_pct"):
        Regimen(strength_pct=-1.0)
    with pytest.raises(InvalidInputError, match="grams_per_application"):
        Regimen(grams_per_application=-2.0)
    with pytest.raises(InvalidInputError, match="dosing interval of zero"):
        Regimen(application_times_h=(0.0, 0.0))
    with pytest.raises(InvalidInputError, match="interval_h"):
        Regimen.bid(1.5, interval_h=0.0)


def test_regimen_round_trips():
    r = Regimen(strength_pct=0.75, application_times_h=(0.0, 12.0), grams_per_application=3.0)
    assert Regimen.from_dict(r.to_dict()) == r
    assert r.dosing_intervals_h == (12.0, 12.0)


def test_cream_amount_per_week_follows_the_ftu_rule():
    # clinical_facts 6c: X % BSA needs about X x 0.25 g per application; 20 % of an adult -> ~70 g/week
    p = _patient_pk(area_pct=20.0, bsa=1.73)
    grams_week = p.grams[0] * 2 * 7
    np.testing.assert_allclose(grams_week, 1.73e4 * 0.2 * 0.5 / 286 * 14, rtol=1e-3)
    assert 55 < grams_week < 90
