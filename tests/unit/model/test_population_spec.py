"""PopulationSpec: built-in specs, round trip, and one-line rejection of invalid specs."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.model.population.laws import (
    SEVERITY_MAX,
    SEVERITY_MIN,
    beta_for_integer_moments,
    beta_for_moments,
    fit_severity_law,
)
from dermsim.model.population.spec import SPEC_DIR, PopulationSpec, builtin_populations, load_population_spec


def test_builtin_specs_load_and_round_trip() -> None:
    assert builtin_populations() == ("true-ad1", "true-ad2", "true-ad3")
    for name in builtin_populations():
        spec = load_population_spec(name)
        assert spec.name == name == spec.trial
        assert PopulationSpec.from_dict(spec.to_dict()) == spec


def test_true_ad3_targets_and_their_status() -> None:
    spec = load_population_spec("true-ad3")
    band = spec.age.bands[0]
    assert (band.min_y, band.max_y, band.mean_y, band.sd_y, band.integer) == (2, 12, 6.5, 2.9, True)
    assert (spec.severity.easi.mean, spec.severity.easi.sd, spec.severity.easi.status) == (8.6, 5.4, "C")
    assert (spec.severity.affected_pct.mean, spec.severity.affected_pct.sd) == (10.5, 5.4)
    assert spec.female_pct.value == 54.2
    # NF in TRuE-AD3: pre-specified priors, stated as such
    assert spec.severity.iga3_pct.status == "A" and spec.severity.nrs.status == "A"


def _walk_sources(file: str, obj: object, where: str) -> None:
    if isinstance(obj, dict):
        if any(isinstance(v, int | float) and not isinstance(v, bool) for v in obj.values()):
            assert obj.get("source"), f"{file}: {where} has a number without a source"
            assert obj.get("status") in ("C", "D", "U", "A"), f"{file}: {where} has no valid status"
        for k, v in obj.items():
            _walk_sources(file, v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _walk_sources(file, v, f"{where}[{i}]")


def test_every_number_names_a_source_and_status() -> None:
    for path in sorted(SPEC_DIR.glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for key, value in raw.items():
            _walk_sources(path.name, value, key)


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    src = (SPEC_DIR / "true-ad3.toml").read_text(encoding="utf-8")
    assert old in src, f"fixture out of date: {old!r}"
    path = tmp_path / "broken-ad3.toml"
    path.write_text(src.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "expect"), [
    ("min_y = 2.0, max_y = 12.0", "min_y = 12.0, max_y = 2.0",
     "field age.bands.0: max_y (2) must be above min_y (12); the age range is reversed or empty"),
    ("sd_y = 2.9", "sd_y = -2.9", "field age.bands.0: sd_y must be >= 0; got -2.9"),
    ("easi = { mean = 8.6, sd = 5.4", "easi = { mean = 8.6, sd = -5.4",
     "field severity.easi.sd: sd must be >= 0; got -5.4"),
    ("affected_max_pct = 20.0", "affected_max_pct = 140.0",
     "field eligibility: affected_max_pct must be within (0, 100]; got 140"),
    ("affected_min_pct = 3.0", "affected_min_pct = -3.0",
     "field eligibility: affected_min_pct must be within (0, 100]; got -3"),
    ('trial = "true-ad3"', 'trial = "true-ad9"',
     "field trial: trial must be one of true-ad1, true-ad2, true-ad3, maxuse-adult, phase2-dose-ranging, "
     "peds-maxuse, true-ad-lts; got 'true-ad9'"),
    ("affected_pct = { mean = 10.5, sd = 5.4", "affected_pct = { mean = 10.5, sd = 9.0",
     "field <top>: severity.affected_pct.sd must be within (0, 8.44) for mean 10.5 on [3, 20]; got 9"),
    ("female_pct = { value = 54.2", "female_pct = { value = 154.2",
     "field <top>: female_pct.value must be within [0, 100]; got 154.2"),
    ("iga = [2, 3]", "iga = [1, 2, 3]", "field eligibility: iga must be a subset of [2, 3]"),
    ('status = "C", note = "10.5%', 'status = "X", note = "10.5%', "field severity.affected_pct.status"),
])
def test_invalid_spec_is_rejected_in_one_line_naming_file_and_field(tmp_path: Path, old: str, new: str,
                                                                    expect: str) -> None:
    with pytest.raises(DataValidationError) as info:
        PopulationSpec.from_toml(_broken(tmp_path, old, new))
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("population spec broken-ad3.toml: ")
    assert expect in msg


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"population spec nope.toml: not found"):
        load_population_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"population spec bad.toml: not valid TOML"):
        load_population_spec(bad)
    with pytest.raises(InvalidInputError, match="population must be one of"):
        load_population_spec("true-ad5")


def test_replace_returns_a_validated_copy() -> None:
    spec = load_population_spec("true-ad3")
    other = spec.replace(bsa_formula="haycock")
    assert other.bsa_formula == "haycock" and spec.bsa_formula == "mosteller"
    with pytest.raises(DataValidationError, match="field trial"):
        spec.replace(trial="other")


def test_beta_for_moments_against_scipy() -> None:
    a, b = beta_for_moments(3.0, 20.0, 10.5, 5.4)
    mean, var = stats.beta.stats(a, b, loc=3.0, scale=17.0, moments="mv")
    assert float(mean) == pytest.approx(10.5, rel=1e-12)
    assert math.sqrt(float(var)) == pytest.approx(5.4, rel=1e-12)
    with pytest.raises(InvalidInputError, match="the SD must be below"):
        beta_for_moments(3.0, 20.0, 10.5, 9.0)


def test_integer_age_beta_gives_completed_year_moments() -> None:
    """Checked with scipy's Beta CDF at the year boundaries (independent of the solver)."""
    a, b = beta_for_integer_moments(2.0, 12.0, 6.5, 2.9)
    years = np.arange(2, 12)
    p = np.diff(stats.beta.cdf((np.append(years, 12) - 2) / 10, a, b))
    mean = float(np.sum(p * years))
    assert mean == pytest.approx(6.5, abs=1e-8)
    assert math.sqrt(float(np.sum(p * (years - mean) ** 2))) == pytest.approx(2.9, abs=1e-8)


def test_severity_law_reproduces_its_targets_on_the_sample() -> None:
    """On a synthetic calibration sample the fitted law gives exactly the asked EASI mean, SD and
    IGA 3/2 ratio (checked by recomputing EASI here), with severity inside [1, 12]."""
    rng = np.random.default_rng(0)
    n = 20_000
    area = rng.choice([1.0, 1.3, 1.6, 2.0, 2.4], size=n)
    iga3 = rng.random(n) < 0.75
    z = rng.standard_normal(n)
    law = fit_severity_law(area, iga3, z, mean=8.6, sd=5.4, ratio=2.0)
    sev = law.compute_severity(z, iga3)
    easi = sev * area
    assert np.all((sev > SEVERITY_MIN) & (sev < SEVERITY_MAX))
    assert easi.mean() == pytest.approx(8.6, rel=1e-7)
    assert easi.std(ddof=1) == pytest.approx(5.4, rel=1e-7)
    assert easi[iga3].mean() / easi[~iga3].mean() == pytest.approx(2.0, rel=1e-7)


def test_severity_law_refuses_impossible_targets() -> None:
    rng = np.random.default_rng(1)
    area = np.full(5_000, 1.0)  # EASI at most 12
    with pytest.raises(InvalidInputError, match="no sign-severity law gives EASI mean 30"):
        fit_severity_law(area, rng.random(5_000) < 0.7, rng.standard_normal(5_000), mean=30.0, sd=5.0,
                         ratio=2.0)


def test_evidence_references_exist() -> None:
    """Every ``<file>.toml:<key>`` source in a spec names a [sources] key of that evidence file."""
    import re

    from dermsim.evidence._schema import DATA_DIR

    refs = re.compile(r"([\w.-]+\.toml):([\w-]+)")
    for path in sorted(SPEC_DIR.glob("*.toml")):
        found = refs.findall(path.read_text(encoding="utf-8"))
        assert found, f"{path.name} cites no evidence file"
        for file, key in found:
            if file == path.name:
                continue
            sources = tomllib.loads((DATA_DIR / file).read_text(encoding="utf-8"))["sources"]
            assert key in sources, f"{path.name}: {file} has no source {key!r}"
