"""Topical PK: dose, FTU rule, exact propagation, Css, strength and area monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.errors import InvalidInputError
from dermsim.model import pk
from dermsim.model.parameters import compute_individual_values, default_parameters
from dermsim.model.regimen import Regimen


def _patient_pk(strength=1.5, area_pct=10.0, weight=70.0, bsa=1.8, n=1, z=None, regimen=None, barrier0=0.6):
    params = default_parameters()
    ind = compute_individual_values(params, "pk", z, n)
    reg = regimen or Regimen(strength_pct=strength)
    return pk.derive_patient_pk(ind, reg, weight_kg=np.full(n, weight), bsa_m2=np.full(n, bsa),
                                affected_pct=np.full(n, area_pct), age_y=np.full(n, 30.0),
                                barrier0=np.full(n, barrier0))


def test_dose_from_fingertip_unit_rule():
    # 1.5 % = 15 mg/g; 1 FTU (0.5 g) per 286 cm2 -> 1000 cm2 gets 1000 * 0.5/286 g
    dose = pk.compute_dose_mg(Regimen(strength_pct=1.5, g_per_cm2=0.5 / 286), np.array([1000.0]), 0.0)
    np.testing.assert_allclose(dose, 15.0 * 1000 * 0.5 / 286, rtol=1e-12)
    fixed = pk.compute_dose_mg(Regimen(strength_pct=0.75, grams_per_application=2.0), np.array([5.0]), 1.0)
    np.testing.assert_allclose(fixed, 15.0, rtol=1e-12)


def test_css_matches_the_simulated_steady_state_average():
    p = _patient_pk()
    k = pk.compute_rate_matrix(p)
    from dermsim.engine import compute_transition, propagate
    phi = compute_transition(k, 0.25)
    x = np.zeros((4, 1))
    conc = []
    for step in range(int(60 * 24 / 0.25)):
        t = (step * 0.25) % 24
        if t in (0.0, 8.0):
            x[pk.SURF] += p.dose_mg
        x = propagate(phi, x)
        if step >= 59 * 96:
            conc.append(pk.compute_plasma_nM(x, p)[0])
    # trapezoid-free rectangle average over the last day is within 0.5 % of F * dose rate / CL
    np.testing.assert_allclose(np.mean(conc), pk.compute_css_nM(p)[0], rtol=5e-3)


def test_typical_adult_css_is_tens_of_nM_and_far_below_281():
    css_075 = pk.compute_css_nM(_patient_pk(0.75))[0]
    css_15 = pk.compute_css_nM(_patient_pk(1.5))[0]
    assert 5.0 < css_075 < css_15 < 100.0
    assert css_15 < 281.0 / 3
    # strength non-linearity: Css ratio 2^gamma (gamma 0.58 -> 1.49; published 35.7/23.8 = 1.50)
    np.testing.assert_allclose(css_15 / css_075, 2 ** 0.58, rtol=1e-12)


def test_bioavailability_is_capped_at_one():
    z = {"F_top": np.array([10.0])}          # F_top itself hits its upper bound 1
    p = _patient_pk(z=z, area_pct=20.0, barrier0=0.05)   # and the covariates push F above it
    assert p.F[0] == 1.0


@settings(max_examples=40, deadline=None)
@given(s1=st.floats(0.05, 3.0), s2=st.floats(0.05, 3.0), a1=st.floats(1.0, 20.0), a2=st.floats(1.0, 20.0))
def test_more_strength_or_area_never_lowers_exposure(s1, s2, a1, a2):
    lo_s, hi_s = sorted((s1, s2))
    lo_a, hi_a = sorted((a1, a2))
    lo, hi = _patient_pk(lo_s, lo_a), _patient_pk(hi_s, hi_a)
    assert pk.compute_css_nM(hi)[0] >= pk.compute_css_nM(lo)[0] * (1 - 1e-12)
    # local exposure at steady state: amount in viable skin per unit treated area
    def local(p):
        k = pk.compute_rate_matrix(p)[:, :, 0]
        b = np.zeros(4)
        b[pk.SURF] = p.dose_mg[0] * 2 / 24          # mean dosing rate (mg/h)
        x = np.linalg.solve(-k, b)                  # steady state of the time-averaged input
        return pk.compute_local_exposure(x[:, None], p)[0]
    assert local(hi) >= local(lo) * (1 - 1e-12)


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
