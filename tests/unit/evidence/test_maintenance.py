"""Relapse-after-stopping priors (maintenance.toml) load, hold the published medians and keep
their derived hazards in step with them."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from dermsim.errors import DataValidationError
from dermsim.evidence import load_evidence
from dermsim.evidence._schema import DATA_DIR
from dermsim.evidence.maintenance import MAINTENANCE_FILE

F = MAINTENANCE_FILE


@pytest.fixture(scope="module")
def mt():
    return load_evidence().maintenance


def test_published_medians_and_counts(mt):
    assert mt.vehicle_medians_days() == {"berth-jones-2003": 42, "breneman-2008": 43, "crisade-control": 30}
    b = mt.studies["breneman-2008"].facts
    assert (b["active_median_days_to_relapse"].value, b["n_active"].value) == (169, 125)
    assert b["n_vehicle"].value == 72
    c = mt.studies["crisade-control"].facts
    assert (c["active_median_days_to_relapse"].value, c["vehicle_flares_per_patient"].value) == (111, 1.36)
    a = mt.studies["adoring-3"].facts
    assert (a["first_tfi_mean_days"].value, a["median_tfi_days"].status) == (79.8, "NF")
    # Active maintenance always delays relapse versus vehicle in these trials.
    for sid in ("breneman-2008", "crisade-control"):
        f = mt.studies[sid].facts
        assert f["active_median_days_to_relapse"].value > f["vehicle_median_days_to_relapse"].value


def test_derived_values_follow_their_calculation(mt):
    bj = mt.studies["berth-jones-2003"].facts
    relapsed, controlled = bj["vehicle_relapsed_wk16"].value, bj["vehicle_controlled_wk16"].value
    assert bj["vehicle_relapsed_pct_of_completers"].value == pytest.approx(
        100 * relapsed / (relapsed + controlled), abs=0.05)
    for key, med in (("tcs", 42), ("tci", 43), ("pde4", 30)):
        hazard = mt.priors[f"vehicle_relapse_hazard_{key}_per_day"]
        assert hazard.value == pytest.approx(math.log(2) / med, abs=5e-4)
        assert hazard.status == "D"


def test_every_study_says_what_a_relapse_is(mt):
    for sid, s in mt.studies.items():
        assert s.relapse_definition.status == "C" and s.relapse_definition.value, sid


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "evidence"
    shutil.copytree(DATA_DIR, d)
    return d


def _error(d: Path) -> str:
    load_evidence.cache_clear()
    with pytest.raises(DataValidationError) as err:
        load_evidence(d)
    load_evidence.cache_clear()
    return str(err.value)


def test_hazard_out_of_step_with_its_median_is_rejected(tmp_path):
    d = _copy(tmp_path)
    p = d / F
    p.write_text(p.read_text(encoding="utf-8").replace(
        'vehicle_median_days_to_relapse = { value = 43,', 'vehicle_median_days_to_relapse = { value = 60,'),
        encoding="utf-8")
    assert _error(d) == (f"evidence file {F}: key priors.vehicle_relapse_hazard_tci_per_day: "
                         "vehicle_relapse_hazard_tci_per_day must be ln 2 / breneman-2008 "
                         "vehicle_median_days_to_relapse (60.0).")


def test_study_without_a_time_is_rejected(tmp_path):
    d = _copy(tmp_path)
    p = d / F
    text = p.read_text(encoding="utf-8")
    start = text.index("[studies.adoring-3]")
    end = text.index("\n[priors]\n")
    block = "\n".join(ln for ln in text[start:end].splitlines() if "_days" not in ln)
    p.write_text(text[:start] + block + "\n\n" + text[end:], encoding="utf-8")
    assert _error(d).startswith(f"evidence file {F}: key studies.adoring-3: a maintenance study needs")
