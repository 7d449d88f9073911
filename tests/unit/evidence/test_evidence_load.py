"""The real evidence files load, keep their invariants and agree with each other."""

from __future__ import annotations

import pytest

from dermsim.errors import InvalidInputError
from dermsim.evidence import (
    AERow,
    EndpointResult,
    Fact,
    Trial,
    count_by_status,
    cytokine_jaks,
    get_trial,
    iter_cited,
    load_evidence,
)
from dermsim.evidence._schema import DATA_DIR
from dermsim.evidence.trials import TRIAL_FILES


@pytest.fixture(scope="module")
def ev():
    return load_evidence()


def test_every_file_loads_and_has_sources(ev):
    families = ev.families()
    assert set(families) == {*TRIAL_FILES, "label.toml", "pharmacology.toml", "mechanism.toml",
                             "comparators.toml", "natural_history.toml",
                             "pk_maxuse_adult.toml", "trial_phase2.toml", "maintenance.toml", "skin_age.toml"}
    for name, model in families.items():
        assert model.sources, name
        assert sum(count_by_status(model).values()) > 0, name
    assert sorted(ev.trials) == ["true-ad1", "true-ad2", "true-ad3"]


def test_load_is_cached_per_directory(ev):
    assert load_evidence() is ev
    assert load_evidence(DATA_DIR) is ev


def test_every_cited_value_names_a_listed_source_and_every_source_is_used(ev):
    for name, model in ev.families().items():
        used = set()
        for key, item in iter_cited(model):
            for src in (s.strip() for s in item.source.split(";")):
                assert src in model.sources, f"{name}: {key}: {src}"
                used.add(src)
        assert set(model.sources) - used == set(), f"{name}: unused sources"


def test_percentages_within_0_100(ev):
    n_checked = 0
    for model in ev.families().values():
        for key, item in iter_cited(model):
            values = []
            if isinstance(item, Fact) and item.unit == "%":
                values = item.value if isinstance(item.value, list) else [item.value]
            elif isinstance(item, EndpointResult) and item.unit == "%":
                values = [item.value_pct]
            elif isinstance(item, AERow):
                values = [item.pct]
            for v in values:
                if isinstance(v, int | float):
                    n_checked += 1
                    assert 0 <= v <= 100, key
    assert n_checked > 100


@pytest.mark.parametrize("trial_id", ["true-ad1", "true-ad2", "true-ad3"])
def test_arm_n_sum_to_total_and_responders_within_n(ev, trial_id):
    trial: Trial = ev.trials[trial_id]
    ns = {a.id: a.n for a in trial.arms}
    assert sum(ns.values()) == trial.n_total.value
    for r in trial.endpoint_results:
        if r.n_responders is not None:
            assert r.n_responders <= (r.n_arm or ns[r.arm])
    for row in trial.ae:
        if row.n is not None and row.denominator is not None:
            assert row.n <= row.denominator
        assert row.arm in ns


def test_true_ad3_published_numbers(ev):
    t = get_trial("true-ad3")
    assert t.registry_id == "NCT04921969"
    assert [(a.id, a.n, a.ratio, a.strength_pct) for a in t.arms] == [
        ("vehicle", 65, 1, 0.0), ("rux075", 134, 2, 0.75), ("rux150", 131, 2, 1.5)]
    assert all(a.n_randomized.status == "C" for a in t.arms)
    iga = {r.arm: r.value_pct for r in t.results("IGA-TS", visit_week=8)}
    assert iga == {"vehicle": 10.8, "rux075": 36.6, "rux150": 56.5}
    assert (t.baseline["age_y"].value, t.baseline["age_y"].sd) == (6.5, 2.9)
    assert (t.baseline["easi"].value, t.baseline["easi"].sd) == (8.6, 5.4)
    assert t.baseline["female_pct"].value == 54.2
    assert (t.eligibility.bsa_min_pct.value, t.eligibility.bsa_max_pct.value) == (3, 20)
    assert (t.eligibility.age_min_y.value, t.eligibility.age_max_exclusive_y.value) == (2, 12)
    age = next(s for s in t.strata if s.name == "age")
    assert age.levels.status == "NF" and age.levels.value is None
    # EASI-75 and NRS4 percentages were not found: kept as NF records, never as numbers.
    for endpoint in ("EASI-75", "NRS4"):
        recs = t.results(endpoint)
        assert len(recs) == 3 and all(r.status == "NF" and r.value_pct is None for r in recs)
    assert "1:1" in t.lts.vehicle_rerandomization.value
    ae = {(r.term, r.arm): (r.n, r.denominator) for r in t.ae if r.period.startswith("VC")}
    assert ae[("COVID-19", "rux150")] == (6, 130)
    assert ae[("Upper respiratory tract infection", "vehicle")] == (7, 65)


def test_true_ad1_ad2_unconfirmed_values_stay_u(ev):
    for tid, veh in (("true-ad1", 24.6), ("true-ad2", 14.4)):
        t = ev.trials[tid]
        easi = t.results("EASI-75", arm="vehicle")
        assert easi[0].value_pct == veh and easi[0].status == "U"
        assert all(r.status == "U" for r in t.results("NRS4"))
        assert all(a.n_randomized.status == "U" for a in t.arms)
        assert all(r.status == "C" for r in t.results("IGA-TS", visit_week=8))
        # Not found in the posted results read: kept as NF records, never as numbers.
        for r in (*t.results("EASI-PCHG"), *[r for r in t.results("IGA-TS") if r.visit_week is None]):
            assert r.status == "NF" and r.value_pct is None
    pooled = ev.pooled["true-ad1-ad2"]
    assert (pooled.arms["vehicle"].value, pooled.arms["rux150"].value) == (250, 499)
    assert sum(ev.trials[t].arm("rux150").n for t in ("true-ad1", "true-ad2")) == 499
    assert sum(ev.trials[t].arm("vehicle").n for t in ("true-ad1", "true-ad2")) == 250


def test_get_trial_is_case_insensitive_and_rejects_unknown():
    assert get_trial("TRuE-AD3").id == "true-ad3"
    with pytest.raises(InvalidInputError) as err:
        get_trial("x")
    assert str(err.value) == "trial must be one of true-ad1, true-ad2, true-ad3; got 'x'."


def test_trial_round_trips_through_dict(ev):
    t = ev.trials["true-ad3"]
    again = Trial.from_dict(t.to_dict())
    assert again == t and again is not t


def test_vehicle_facts_agree_with_trial_files(ev):
    nh = ev.natural_history
    for tid in ("true-ad1", "true-ad2", "true-ad3"):
        trial_value = ev.trials[tid].results("IGA-TS", arm="vehicle", visit_week=8)[0].value_pct
        assert nh.vehicle[f"iga_ts_wk8_{tid.replace('-', '_')}_pct"].value == trial_value
    base = ev.trials["true-ad3"].baseline
    assert (nh.baseline["easi_true_ad3"].value, nh.baseline["easi_true_ad3"].sd) == (
        base["easi"].value, base["easi"].sd)
    rux = ev.comparators.comparator("ruxolitinib-ad3").results[0]
    assert (rux.active_value, rux.control_value) == (56.5, 10.8)


def test_pharmacology_key_values(ev):
    ph = ev.pharmacology
    assert (ph.topical["css_rux075_nM"].value, ph.topical["css_rux075_nM"].sd) == (23.8, 35.0)
    assert (ph.topical["css_rux150_nM"].value, ph.topical["css_rux150_nM"].sd) == (35.7, 55.0)
    assert ph.topical["bioavailability_rux150_pct"].value == 6.22
    threshold = ph.topical["myelosuppression_threshold_nM"].value
    assert threshold == ph.potency["ic50_wb_tpo_pstat3_nM"].value == 281
    assert (ph.potency["ic50_jak1_nM"].value, ph.potency["ic50_jak2_nM"].value) == (3.3, 2.8)
    assert ph.oral["protein_binding_pct"].value == 97
    for key in ("vd_ss_mf_L", "cl_women_L_per_h", "cl_men_L_per_h", "ic50_tyk2_nM"):
        section = ph.potency if key.startswith("ic50") else ph.oral
        assert section[key].status == "U", key


def test_cytokine_map_and_model_copy_agree(ev):
    jaks = cytokine_jaks()
    assert jaks["IL-13"] == ("JAK1", "JAK2", "TYK2")
    assert jaks["TSLP"] == ("JAK1", "JAK2")
    assert jaks["IFN-gamma"] == ("JAK1", "JAK2")
    assert ev.mechanism.cytokine("TPO").blocked_by_ruxolitinib == "yes"
    assert ev.mechanism.cytokine("IL-4").blocked_by_ruxolitinib == "partly"
    # The model reads its six AD pathways from this same map.
    from dermsim.model.pharmacology.jak import cytokine_jaks as model_jaks
    names = {"IL4": "IL-4", "IL13": "IL-13", "IL31": "IL-31", "IL22": "IL-22", "TSLP": "TSLP",
             "IFNg": "IFN-gamma"}
    assert model_jaks() == {m: jaks[e] for m, e in names.items()}


def test_charts_are_reachable_lazily(ev):
    pytest.importorskip("dermsim.evidence.charts", reason="charts module not installed yet")
    assert ev.charts is ev.charts
