"""The adult/adolescent maximum-use trial (Bissonnette 2022 Table 3) loads, keeps its invariants and
gives the numbers calibration uses."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dermsim.errors import DataValidationError
from dermsim.evidence import load_evidence
from dermsim.evidence._schema import DATA_DIR
from dermsim.evidence.pk_maxuse import N_FACTS, PARTITIONS, PK_MAXUSE_ADULT_FILE

F = PK_MAXUSE_ADULT_FILE


@pytest.fixture(scope="module")
def mu():
    return load_evidence().pk_maxuse_adult


def test_overall_table3_numbers(mu):
    g = mu.group("overall")
    assert (g.css_nM.value, g.css_nM.sd, g.css_nM.status) == (104, 309, "C")
    assert (g.bioavailability_pct.value, g.bioavailability_pct.sd) == (2.54, 3.56)
    assert (g.bsa_pct.value, g.bsa_pct.sd) == (38.1, 16.3)
    assert (g.area_cm2.value, g.api_mg_per_application.value) == (6640, 152)
    assert (g.t_half_h.value, g.t_half_h.sd, g.t_half_n.value) == (116, 251, 9)
    assert (g.cmax_cmin_ratio.value, g.day28_tmax_h.value) == (2.72, 4.0)
    assert mu.design["n_enrolled"].value == g.n_baseline.value == 41


def test_bsa_subgroups_show_higher_exposure_and_f_at_larger_area(mu):
    small, large = mu.group("bsa_25_40"), mu.group("bsa_ge40")
    assert (small.css_nM.value, large.css_nM.value) == (30.9, 274)
    assert (small.bioavailability_pct.value, large.bioavailability_pct.value) == (1.49, 5.00)
    # The property the issue names: F in the >= 40% BSA group is above the overall F.
    assert large.bioavailability_pct.value > mu.group("overall").bioavailability_pct.value


@pytest.mark.parametrize("part", sorted(PARTITIONS))
def test_subgroup_n_add_up_to_overall(mu, part):
    for name in N_FACTS:
        assert sum(mu.group(g).n(name) for g in PARTITIONS[part]) == mu.group("overall").n(name)


def test_derived_cream_amounts_follow_their_calculation(mu):
    strength = mu.design["cream_mg_api_per_g"].value
    for gid, g in mu.groups.items():
        if g.load_mg_per_cm2 is not None:
            grams = g.api_mg_per_application.value / strength
            assert g.load_mg_per_cm2.value == pytest.approx(grams * 1000 / g.area_cm2.value, abs=0.01), gid
            assert g.load_mg_per_cm2.status == "D"
    g = mu.group("overall")
    assert g.cream_g_per_application.value == pytest.approx(152 / 15, abs=0.05)
    assert g.cream_g_per_day.value == pytest.approx(2 * 152 / 15, abs=0.05)


def test_keys_resolve_through_the_clinic_index():
    from dermsim.clinic.evidence_keys import cite
    c = cite(f"{F}:groups.bsa_ge40.bioavailability_pct")
    assert c.status == "C" and "Table 3" in c.citations[0]


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "evidence"
    shutil.copytree(DATA_DIR, out)
    return out


def test_mistyped_subgroup_n_is_rejected(tmp_path):
    d = _copy(tmp_path)
    path = d / F
    text = path.read_text(encoding="utf-8")
    old = 'label = "Affected BSA >= 40% at baseline"\nn_baseline = { value = 13,'
    assert old in text
    path.write_text(text.replace(old, old.replace("13", "14")), encoding="utf-8")
    load_evidence.cache_clear()
    with pytest.raises(DataValidationError) as err:
        load_evidence(d)
    load_evidence.cache_clear()
    assert str(err.value) == (f"evidence file {F}: key groups.overall.n_baseline: n_baseline of the bsa "
                              "groups (28 + 14 = 42) must equal the overall n_baseline (41).")


def test_missing_table3_row_is_rejected(tmp_path):
    d = _copy(tmp_path)
    path = d / F
    text = path.read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if not ln.startswith('css_nM = { value = 20.2')]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_evidence.cache_clear()
    with pytest.raises(DataValidationError) as err:
        load_evidence(d)
    load_evidence.cache_clear()
    assert str(err.value).startswith(f"evidence file {F}: key groups.age_16_17.css_nM:")
