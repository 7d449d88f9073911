"""Dose and exposure planner: input checks, FTU arithmetic against the evidence tables, label
checks at their limits, exposure from the PK model, and property tests (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.clinic import DosePlanInput, parse_regions, plan_dose
from dermsim.clinic.dose import parse_region_grams
from dermsim.errors import InvalidInputError
from dermsim.evidence import load_evidence
from dermsim.model.parameters import default_parameters
from dermsim.model.population.body import compute_region_sizes_pct, region_names

EV = load_evidence()
LABEL_BSA = float(EV.label.facts["max_bsa_pct"].number)
ADULT = EV.label.max_amount_for_age(30)
G_WEEK = float(ADULT.g_per_week.number)
G_2WEEKS = float(ADULT.g_per_2_weeks.number)
FAST = 200  # virtual copies: enough for monotonicity checks, which use the same draws


def _plan(draws: int = FAST, seed: int = 3, **kw):
    kw.setdefault("weight_kg", 21.0)
    kw.setdefault("height_cm", 116.0)
    kw.setdefault("age_y", 6.0)
    return plan_dose(DosePlanInput(**kw), seed=seed, n_draws=draws)


@pytest.mark.parametrize(("kw", "expect"), [
    ({"weight_kg": -3.0, "area_pct": 10}, "weight_kg must be > 0; got -3.0"),
    ({"height_cm": 0.0, "area_pct": 10}, "height_cm must be > 0"),
    ({"weight_kg": 210.0, "area_pct": 10}, "weight_kg must be plausible for age 6 y"),
    ({"age_y": 1.5, "area_pct": 10}, "age_y must be within [2, 120]; got 1.5"),
    ({"area_pct": 140.0}, "area_pct must be within (0, 100]; got 140.0"),
    ({"area_pct": 0.0}, "area_pct must be within (0, 100]; got 0.0"),
    ({"regions": {"arms": 140}}, "regions.arms (percent of the region affected) must be within [0, 100]"),
    ({"regions": {"elbows": 10}}, "region must be one of head, neck"),
    ({"regions": {"arms": 10, "forearms": 5}}, "regions.forearms overlaps regions.arms"),
    ({"regions": {"arms": 0}}, "at least one region affected above 0%"),
    ({}, "regions or area_pct must be given (exactly one of them); got neither"),
    ({"regions": {"arms": 10}, "area_pct": 5}, "got both"),
    ({"area_pct": 10, "strength_pct": 3.0}, "strength_pct must be one of 0.75, 1.5; got 3.0"),
    ({"area_pct": 10, "applications_per_day": 3}, "applications_per_day must be 1 or 2"),
    ({"area_pct": 10, "grams_per_day": -1.0}, "grams_per_day must be > 0"),
    ({"area_pct": 10, "sex": "X"}, "sex must be one of F, M; got 'X'"),
    ({"area_pct": 10, "region_grams_per_day": {"arms": 1.0}}, "grams per region need regions"),
    ({"regions": {"arms": 10}, "region_grams_per_day": {"legs": 1.0}}, "must name the same regions"),
    ({"regions": {"arms": 10}, "region_grams_per_day": {"arms": 0.0}},
     "regions.arms grams a day must be > 0"),
    ({"regions": {"arms": 10}, "region_grams_per_day": {"arms": 1.0}, "grams_per_day": 2.0}, "not both"),
])
def test_impossible_input_names_the_field(kw: dict, expect: str) -> None:
    base = {"age_y": 6.0, "weight_kg": 21.0, "height_cm": 116.0}
    with pytest.raises(InvalidInputError) as err:
        DosePlanInput(**(base | kw))
    assert expect in str(err.value)


@pytest.mark.parametrize(("text", "expect"), [
    ("arms:50,legs:30,trunk:10", {"arms": 50.0, "legs": 30.0, "trunk": 10.0}),
    (" Arms : 5 ", {"arms": 5.0}),
])
def test_parse_regions(text: str, expect: dict) -> None:
    assert parse_regions(text) == expect


@pytest.mark.parametrize(("text", "expect"), [
    ("arms", "region:percent"), ("arms:x", "regions.arms must be a number"), (",", "at least one region")])
def test_parse_regions_refuses(text: str, expect: str) -> None:
    with pytest.raises(InvalidInputError, match=expect):
        parse_regions(text)


def test_grams_used_per_region() -> None:
    """The grams really used, region by region ("arms:50:1.2g"): their sum replaces the FTU estimate for
    the exposure, exactly like --grams-per-day of the same total; all regions or none."""
    text = "arms:50:1.2g,legs:30:1.5g"
    assert parse_regions(text) == {"arms": 50.0, "legs": 30.0}
    assert parse_region_grams(text) == {"arms": 1.2, "legs": 1.5}
    assert parse_region_grams("arms:50,legs:30") is None
    with pytest.raises(InvalidInputError, match="missing for legs"):
        parse_region_grams("arms:50:1.2g,legs:30")
    with pytest.raises(InvalidInputError, match=r"like '1\.2g'"):
        parse_region_grams("arms:50:1.2")
    per_region = _plan(regions={"arms": 50, "legs": 30}, region_grams_per_day={"arms": 1.2, "legs": 1.5})
    total = _plan(regions={"arms": 50, "legs": 30}, grams_per_day=2.7)
    assert per_region.grams_per_day == pytest.approx(2.7)
    assert per_region.grams_source == "grams per region given"
    assert per_region.exposure.css_median_nM == pytest.approx(total.exposure.css_median_nM)
    assert [r.grams_per_day_entered for r in per_region.regions] == [1.2, 1.5]
    assert any("given region by region" in n for n in per_region.notes)


def test_input_round_trip() -> None:
    inp = DosePlanInput(age_y=6, sex="F", regions={"arms": 50}, grams_per_day=3.0)
    assert DosePlanInput.from_dict(inp.to_dict()) == inp
    inp = DosePlanInput(age_y=6, regions={"arms": 50}, region_grams_per_day={"arms": 1.0})
    assert DosePlanInput.from_dict(inp.to_dict()) == inp
    with pytest.raises(AttributeError):
        inp.age_y = 7  # type: ignore[misc]


def test_ftu_of_a_region_follows_the_age_table() -> None:
    """Half of both arms at 6 y: FTU = 2 x arm_hand FTU (6-10 y band) x treated share of the
    arm-and-hand area (Lund-Browder sizes at 6 y), 0.5 g per FTU."""
    plan = _plan(regions={"arms": 50})
    band = EV.charts.ftu.band_for_age(6.0)
    sizes = dict(zip(region_names(), compute_region_sizes_pct(6.0)[0], strict=True))
    arm_area = sizes["upper_arms"] + sizes["forearms"] + sizes["hands"]
    treated = 0.5 * (sizes["upper_arms"] + sizes["forearms"])
    expect_ftu = 2 * band.arm_hand.number * treated / arm_area
    assert plan.regions[0].treated_pct == pytest.approx(treated, rel=1e-12)
    assert plan.ftu_per_application == pytest.approx(expect_ftu, rel=1e-12)
    ftu_grams = expect_ftu * EV.charts.ftu.weight_g.number
    assert plan.regions[0].grams_per_application == pytest.approx(ftu_grams, rel=1e-12)
    assert plan.ftu_grams_per_application == pytest.approx(ftu_grams, rel=1e-12)
    assert plan.grams_per_week == pytest.approx(plan.grams_per_application * 2 * 7, rel=1e-12)
    assert plan.treated_cm2 == pytest.approx(plan.bsa_m2 * 1e4 * treated / 100, rel=1e-12)


def test_table_arm_and_leg_entries_are_per_limb() -> None:
    """Why FTU_AREA_COUNT doubles arms and legs: the adult band of the by-age table matches Long
    1991's FTUs for ONE arm with its hand and ONE leg with its foot (within 15%), not both."""
    from dermsim.clinic.dose import FTU_AREA_COUNT

    adult = EV.charts.ftu.band_for_age(30.0)
    long = {k: f.number for k, f in EV.charts.ftu.adult_by_region.items()}
    assert adult.arm_hand.number == pytest.approx(long["arm_forearm"] + long["hand"], rel=0.15)
    assert adult.leg_foot.number == pytest.approx(long["leg_thigh"] + long["foot"], rel=0.15)
    assert adult.trunk_front.number == pytest.approx(long["trunk_front"], rel=0.15)
    assert FTU_AREA_COUNT["arm_hand"] == FTU_AREA_COUNT["leg_foot"] == 2


@pytest.mark.parametrize("age", [2.0, 4.0, 8.0, 30.0])
def test_whole_body_is_the_table_total(age: float) -> None:
    """Every region fully treated: the FTUs are the table's whole-body total for the age band
    (face-neck + 2 arms + 2 legs + trunk front + back), whatever the chart's region sizes."""
    plan = _plan(age_y=age, weight_kg=None, height_cm=None, regions=dict.fromkeys(region_names(), 100.0))
    band = EV.charts.ftu.band_for_age(age)
    total = (band.face_neck.number + 2 * band.arm_hand.number + 2 * band.leg_foot.number
             + band.trunk_front.number + band.back_buttocks.number)
    assert plan.ftu_per_application == pytest.approx(total, rel=1e-12)
    assert plan.treated_pct == pytest.approx(100.0, rel=1e-12)


def test_age_gap_in_the_ftu_table_uses_the_area_rule() -> None:
    plan = _plan(age_y=14.0, weight_kg=50.0, height_cm=160.0, area_pct=10.0)
    assert "area rule" in plan.ftu_method
    cm2_per_ftu = EV.charts.ftu.area_cm2.number
    assert plan.ftu_per_application == pytest.approx(plan.treated_cm2 / cm2_per_ftu, rel=1e-12)


def test_age_typical_body_from_growth_reference() -> None:
    plan = _plan(weight_kg=None, height_cm=None, area_pct=10.0, sex="F")
    assert "CDC 2000 median for girls" in plan.body_source
    assert 15 < plan.weight_kg < 28 and 105 < plan.height_cm < 125


def test_tubes_count_dispensed_packs_only() -> None:
    plan = _plan(area_pct=10.0)
    assert set(plan.tubes_per_month) == {"60 g", "100 g"}
    assert plan.tubes_per_month["60 g"] == int(np.ceil(plan.grams_per_month / 60))


def test_label_checks_children_have_no_gram_limit() -> None:
    plan = _plan(area_pct=10.0)
    grams = [c for c in plan.label_checks if c.name.startswith("g_per")]
    assert [c.within for c in grams] == [None, None]
    assert all(c.status == "NF" and "no label number for ages 2-11 y" in c.message for c in grams)
    assert all(c.limit is None for c in grams)


@pytest.mark.parametrize(("area", "within"), [(LABEL_BSA, True), (LABEL_BSA * (1 + 1e-9), False),
                                              (LABEL_BSA - 1e-9, True)])
def test_bsa_check_flips_exactly_at_the_label_limit(area: float, within: bool) -> None:
    check = _plan(area_pct=area).label_checks[0]
    assert check.name == "max_bsa_pct" and check.within is within and check.limit == LABEL_BSA


@pytest.mark.parametrize(("g_day", "week", "two_weeks"), [
    (G_WEEK / 7, True, False),                       # exactly 60 g/week (120 g per 2 weeks)
    (G_WEEK / 7 * (1 + 1e-9), False, False),
    (G_2WEEKS / 14, True, True),                     # exactly 100 g per 2 weeks
    (G_2WEEKS / 14 * (1 + 1e-9), True, False),
    (1.0, True, True),
])
def test_gram_checks_flip_exactly_at_the_adult_limits(g_day: float, week: bool, two_weeks: bool) -> None:
    plan = _plan(age_y=30.0, weight_kg=70.0, height_cm=175.0, area_pct=10.0, grams_per_day=float(g_day))
    checks = {c.name: c for c in plan.label_checks}
    assert checks["g_per_week"].within is week and checks["g_per_week"].limit == G_WEEK
    assert checks["g_per_2_weeks"].within is two_weeks and checks["g_per_2_weeks"].limit == G_2WEEKS
    assert ("EXCEEDS" in checks["g_per_week"].message) is (not week)


def test_grams_per_day_replaces_the_ftu_estimate_for_exposure(monkeypatch) -> None:
    """The absorbed flux saturates in the cream load per cm2 (L/(L + L50), pk.compute_absorbed_mg):
    on the same draws, doubling the grams on the same area multiplies every quantile of Css by
    2 (L + L50) / (2 L + L50), between 1 and 2. On the prior (one L50; the shipped posterior has
    one per particle)."""
    import dermsim.clinic.dose as dose_mod

    monkeypatch.setattr(dose_mod, "_parameter_source",
                        lambda: dose_mod.ParameterSource("prior", "prior parameters (test)"))
    a = _plan(area_pct=10.0, grams_per_day=2.0)
    b = _plan(area_pct=10.0, grams_per_day=4.0)
    assert a.grams_source == "grams_per_day given" and a.grams_per_day == 2.0
    assert a.exposure.parameters == "prior"            # L50 below is the prior's
    load = a.grams_per_application * 1000.0 / a.treated_cm2
    l50 = default_parameters().value("L50")
    ratio = 2.0 * (load + l50) / (2.0 * load + l50)
    assert 1.0 < ratio < 2.0
    assert b.exposure.css_median_nM == pytest.approx(ratio * a.exposure.css_median_nM, rel=1e-9)
    assert b.exposure.css_p95_nM == pytest.approx(ratio * a.exposure.css_p95_nM, rel=1e-9)
    assert any("exposure uses the 2 g/day given" in n for n in a.notes)


def test_exposure_against_threshold_and_oral() -> None:
    plan = _plan(regions={"arms": 50, "legs": 30, "trunk": 10}, draws=2000)
    e = plan.exposure
    assert e.threshold_nM == EV.pharmacology.topical["myelosuppression_threshold_nM"].number
    assert e.css_p05_nM < e.css_median_nM < e.css_p95_nM
    assert 0.0 <= e.p_above_threshold <= 1.0
    assert e.parameters in ("prior", "calibrated posterior") and e.parameters_note.startswith("PK parameters")
    assert (e.posterior_version is None) == (e.parameters == "prior")
    # Cream vs pills in the same patient: the model's absorbed amount per day against the lowest
    # labelled oral dose x the oral bioavailability (both confirmed evidence, never typed here).
    o = e.oral
    oral = EV.pharmacology.oral
    assert o is not None and e.oral_available
    assert o.oral_mg_day == pytest.approx(2 * oral["dose_mf_start_min_mg_bid"].number
                                          * oral["bioavailability_pct"].number / 100)
    assert o.ratio_p05 < o.ratio_median < o.ratio_p95
    assert o.ratio_median == pytest.approx(e.absorbed_mg_day_median / o.oral_mg_day, rel=0.05)
    assert ".toml" not in e.oral_message and all(k.startswith("pharmacology.toml:oral.") for k in o.keys)


def test_more_cream_more_exposure_against_the_pill() -> None:
    """The comparison can fail: twice the grams on the same area never lowers the ratio."""
    a = _plan(area_pct=10.0, grams_per_day=2.0).exposure.oral
    b = _plan(area_pct=10.0, grams_per_day=4.0).exposure.oral
    assert b.ratio_median > a.ratio_median


def test_same_seed_same_plan_different_seed_differs() -> None:
    a = _plan(area_pct=12.0, seed=11).to_dict()
    b = _plan(area_pct=12.0, seed=11).to_dict()
    c = _plan(area_pct=12.0, seed=12).to_dict()
    assert a == b and a["exposure"]["css_median_nM"] != c["exposure"]["css_median_nM"]


def test_strength_075_is_flagged_as_not_marketed() -> None:
    plan = _plan(area_pct=10.0, strength_pct=0.75)
    assert any("label) strength is 1.5%" in n for n in plan.notes)


@settings(max_examples=25, deadline=None)
@given(age=st.floats(2.0, 80.0), a1=st.floats(0.5, 99.0), frac=st.floats(0.0, 1.0))
def test_more_area_never_less_cream_or_exposure(age: float, a1: float, frac: float) -> None:
    a2 = a1 + frac * (100.0 - a1)
    p1 = _plan(age_y=age, weight_kg=None, height_cm=None, area_pct=a1, draws=100)
    p2 = _plan(age_y=age, weight_kg=None, height_cm=None, area_pct=a2, draws=100)
    assert p2.grams_per_week >= p1.grams_per_week
    for q in ("css_p05_nM", "css_median_nM", "css_p95_nM"):
        assert getattr(p2.exposure, q) >= getattr(p1.exposure, q) * (1 - 1e-12)
    assert p2.exposure.p_above_threshold >= p1.exposure.p_above_threshold


@settings(max_examples=25, deadline=None)
@given(share=st.floats(1.0, 99.0), extra=st.floats(0.0, 1.0),
       region=st.sampled_from(["arms", "legs", "trunk", "head_neck", "hands", "feet", "buttocks"]))
def test_more_of_a_region_never_less_cream_or_exposure(share: float, extra: float, region: str) -> None:
    other = {"legs": 20.0} if region != "legs" else {"arms": 20.0}
    p1 = _plan(regions={region: share, **other}, draws=100)
    p2 = _plan(regions={region: share + extra * (100 - share), **other}, draws=100)
    assert p2.grams_per_application >= p1.grams_per_application
    assert p2.exposure.css_median_nM >= p1.exposure.css_median_nM * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(age=st.floats(2.0, 80.0), area=st.floats(0.5, 50.0), k=st.floats(0.1, 2.0))
def test_grams_scale_with_area_as_the_ftu_rule_says(age: float, area: float, k: float) -> None:
    """Within one age (one FTU band or the area rule), cream is proportional to treated area."""
    p1 = _plan(age_y=age, weight_kg=None, height_cm=None, area_pct=area, draws=100)
    p2 = _plan(age_y=age, weight_kg=None, height_cm=None, area_pct=area * k, draws=100)
    assert p2.grams_per_application == pytest.approx(k * p1.grams_per_application, rel=1e-12)
    assert p2.ftu_per_application == pytest.approx(k * p1.ftu_per_application, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(age=st.floats(12.0, 80.0), area=st.floats(LABEL_BSA - 2, LABEL_BSA + 2),
       g_day=st.floats(G_WEEK / 7 - 1, G_WEEK / 7 + 1))
def test_label_checks_flip_exactly_at_the_limits(age: float, area: float, g_day: float) -> None:
    plan = _plan(age_y=age, weight_kg=None, height_cm=None, area_pct=area, grams_per_day=g_day, draws=100)
    checks = {c.name: c.within for c in plan.label_checks}
    assert checks["max_bsa_pct"] is (area <= LABEL_BSA * (1 + 1e-12))
    assert checks["g_per_week"] is (g_day * 7 <= G_WEEK * (1 + 1e-12))
    assert checks["g_per_2_weeks"] is (g_day * 14 <= G_2WEEKS * (1 + 1e-12))


def test_p_above_integrates_the_jmax_variability_exactly() -> None:
    """The Rao-Blackwellized P(Css > threshold | all draws but eta_J) equals brute-force Monte Carlo
    over eta_J, with the cap at the applied dose, for copies on both sides of the threshold."""
    from dermsim.clinic.dose import _draw_individual_values, _p_above_given_rest
    from dermsim.model.disease import dynamics
    from dermsim.model.pharmacology import pk
    from dermsim.model.pharmacology.regimen import Regimen

    base = default_parameters().replace_values(Jmax=12.0)   # centre the copies near the threshold
    n, thr = 40, 281.0
    rng = np.random.default_rng(5)
    particle = np.zeros(n, dtype=int)
    z = rng.standard_normal((n, len(base.names())))
    ind = _draw_individual_values([base], particle, z, ("pk", "disease", "itch"))
    y0 = dynamics.solve_baseline(ind["disease"], ind["itch"])
    reg = Regimen(strength_pct=1.5, grams_per_application=6.0)
    p = pk.derive_patient_pk(ind["pk"], reg, weight_kg=np.full(n, 25.0), bsa_m2=np.full(n, 0.9),
                             affected_pct=np.full(n, 40.0), age_y=np.full(n, 7.0))
    damage = 1.0 - y0[dynamics.B]
    got = _p_above_given_rest(p, reg, damage, thr, [base], particle, z, base)
    omega = base["Jmax"].omega
    eta_i = z[:, base.names().index("Jmax")]
    eta = rng.standard_normal(20_000)
    css = pk.compute_css_nM(p, p.grams, 1.5, 2, damage)                       # (n,) at eta_i
    css_dose = pk.compute_css_from_absorbed_nM(p, pk.compute_dose_mg(p.grams, 1.5) * 2)
    flux_css = pk.compute_css_from_absorbed_nM(p, pk.compute_flux_mg(p, p.grams, 1.5, damage) * 2)
    brute = np.mean(np.minimum(flux_css[:, None] * np.exp(omega * (eta[None, :] - eta_i[:, None])),
                               css_dose[:, None]) > thr, axis=1)
    np.testing.assert_allclose(got, brute, atol=0.015)
    assert 0.05 < got.mean() < 0.95 and np.all((css > thr) <= (got > 0))
