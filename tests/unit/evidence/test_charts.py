"""Reference charts (evidence/data/charts.toml): values as published, validators, one-line errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dermsim.errors import DataValidationError
from dermsim.evidence._schema import DATA_DIR
from dermsim.evidence.charts import EASI_REGIONS, Charts, load_charts


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    src = (DATA_DIR / "charts.toml").read_text(encoding="utf-8")
    assert old in src, f"test fixture out of date: {old!r} not in charts.toml"
    (tmp_path / "charts.toml").write_text(src.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def test_default_is_cached_and_loads() -> None:
    assert load_charts() is load_charts()


def test_lund_browder_columns_as_published() -> None:
    """clinical_facts.md 6a: whole head 19/17/13/11/9/7, thighs 11/13/16/17/18/19, lower legs
    10/10/11/12/13/14; the fixed regions add up to 60."""
    lb = load_charts().lund_browder
    table = dict(zip(lb.region_names, lb.size_table(), strict=True))
    assert table["head"] == [19, 17, 13, 11, 9, 7]
    assert table["thighs"] == [11, 13, 16, 17, 18, 19]
    assert table["lower_legs"] == [10, 10, 11, 12, 13, 14]
    fixed = [v[0] for k, v in table.items() if k not in ("head", "thighs", "lower_legs")]
    assert sum(fixed) == pytest.approx(60, abs=1e-12)
    for j in range(len(lb.age_columns)):
        assert sum(col[j] for col in table.values()) == pytest.approx(100, abs=1e-12)


def test_easi_weights_by_age() -> None:
    easi = load_charts().easi
    assert easi.weights(young=False) == (0.1, 0.3, 0.2, 0.4)
    assert easi.weights(young=True) == (0.2, 0.3, 0.2, 0.3)
    assert easi.age_cut_y.value == 8
    assert {str(f.value) for f in easi.region_map.values()} == set(EASI_REGIONS)


def test_bsa_and_ftu_facts() -> None:
    ch = load_charts()
    assert ch.bsa.default.value == "mosteller"
    assert ch.bsa.formulas["haycock"].coefficients() == (0.024265, 0.3964, 0.5378)
    assert ch.bsa.formulas["mosteller"].coefficients()[0] == pytest.approx(1 / 60, rel=1e-15)
    assert ch.ftu.area_cm2.value == 286 and ch.ftu.weight_g.value == 0.5
    band = ch.ftu.band_for_age(7.0)
    assert band is not None and band.label == "6-10 y" and band.ftu()["leg_foot"] == 4.5
    assert ch.ftu.band_for_age(14.0) is None  # the published table has no 11-17 y row
    assert ch.ftu.band_for_age(40.0).label == "adult"
    assert ch.handprint["palm_with_fingers_pct"].value == 0.8


def test_round_trip() -> None:
    ch = load_charts()
    assert Charts.from_dict(ch.to_dict()) == ch


def test_fresh_copy_loads_uncached(tmp_path: Path) -> None:
    shutil.copy(DATA_DIR / "charts.toml", tmp_path / "charts.toml")
    ch = load_charts(tmp_path)
    assert ch == load_charts() and ch is not load_charts()


@pytest.mark.parametrize(("old", "new", "expect"), [
    ("values = [9.5, 8.5, 6.5, 5.5, 4.5, 3.5]", "values = [9.5, 8.5, 6.5, 5.5, 4.5, 4.5]",
     "key lund_browder: region sizes in age column 'adult' must sum to 100%; got 102"),
    ('head_neck = { value = 0.1,', 'head_neck = { value = 0.2,',
     "key easi: weights_8_plus must sum to 1; got 1.1"),
    ('per_unit = { values = [13.0], unit = "%", source = "LB-standard"',
     'per_unit = { values = [130.0], unit = "%", source = "LB-standard"',
     "key lund_browder.regions.anterior_trunk.per_unit: values must be percentages within [0, 100]; got 130"),
    ('source = "LB-activheal", status = "C", note = "A = half',
     'source = "nowhere", status = "C", note = "A = half',
     "key lund_browder.regions.head.per_unit: source 'nowhere' is not in [sources]"),
    ('feet = { value = "lower_limbs"', 'feet = { value = "legs"',
     "key easi: region_map.feet must be one of head_neck, trunk, upper_limbs, lower_limbs; got 'legs'"),
    ('handprints_per_ftu = { value = 2, unit = "adult handprints", source = "FTU-wiki"',
     'handprints_per_ftu = { value = 2, unit = "adult handprints", source = "FTU-nope"',
     "key ftu.handprints_per_ftu: source 'FTU-nope' is not in [sources]"),
])
def test_broken_file_gives_one_line_naming_file_and_key(tmp_path: Path, old: str, new: str,
                                                         expect: str) -> None:
    with pytest.raises(DataValidationError) as info:
        load_charts(_copy(tmp_path, old, new))
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("evidence file charts.toml: ")
    assert expect in msg
