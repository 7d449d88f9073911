"""A user's covariate table (issue 18): kept exactly, validated, and drawn around where incomplete."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population import body
from dermsim.model.population.sampling import Population, sample_population
from dermsim.model.population.spec import SPEC_DIR, load_population_spec
from dermsim.model.simulate import simulate_patients


def _children(n: int = 500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.uniform(2, 12, n).round(2)
    return pd.DataFrame({
        "AGE": age, "SEX": rng.choice(["F", "M"], n), "WT": rng.uniform(11, 45, n).round(1),
        "HT": rng.uniform(82, 152, n).round(1), "affected_pct": rng.uniform(3, 20, n).round(1),
        "IGA0": rng.choice([2, 3], n), "EASI0": rng.uniform(1, 20, n).round(1),
        "NRS0": rng.uniform(0, 10, n).round(1)})


def test_500_children_reproduced_exactly_in_population_and_trajectories(tmp_path):
    table = _children()
    path = tmp_path / "children.parquet"
    table.to_parquet(path)
    pop = sample_population("true-ad3", None, 11, covariates=path)
    assert pop.n == 500
    frame = pop.to_frame()
    for given, col in (("AGE", "age_y"), ("WT", "weight_kg"), ("HT", "height_cm"),
                       ("affected_pct", "affected_pct"), ("IGA0", "iga0"), ("EASI0", "easi0"),
                       ("NRS0", "nrs0")):
        np.testing.assert_array_equal(frame[col].to_numpy(), table[given].to_numpy(), err_msg=col)
    assert list(frame["sex"]) == list(table["SEX"])
    # the drawn lesion map holds each child's given %BSA, within each region's size at that age
    np.testing.assert_allclose(pop.region_pct.sum(axis=1), table["affected_pct"], rtol=1e-9)
    assert np.all(pop.region_pct <= body.compute_region_sizes_pct(pop.age_y) + 1e-9)
    assert pop.extra["covariate_table"] == str(path)
    # the model sees the same children (baseline EASI and IGA are the table's)
    traj = simulate_patients(pop, Regimen.bid(1.5), 3, 5, record=("easi", "iga"), chunk_size=128)
    np.testing.assert_array_equal(traj["easi"][:, 0], table["EASI0"].to_numpy())
    np.testing.assert_array_equal(traj["iga"][:, 0], table["IGA0"].to_numpy())


def test_csv_table_and_frame_give_the_same_patients(tmp_path):
    table = _children(40, seed=4)[["AGE", "SEX", "affected_pct"]]
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    a = sample_population("true-ad3", 40, 2, covariates=path).to_frame()
    b = sample_population("true-ad3", None, 2, covariates=table).to_frame()
    pd.testing.assert_frame_equal(a, b)
    # drawn columns follow the spec's laws: EASI and weight vary, and differ with the seed
    c = sample_population("true-ad3", None, 3, covariates=table).to_frame()
    assert not np.allclose(a["easi0"], c["easi0"])
    np.testing.assert_array_equal(a["age_y"], c["age_y"])


def test_complete_table_round_trips_through_from_frame():
    pop = sample_population("true-ad3", 30, 8)
    back = Population.from_frame(pop.to_frame())
    for name in ("age_y", "weight_kg", "height_cm", "bsa_m2", "affected_pct", "easi0", "nrs0",
                 "region_pct", "easi_region_pct"):
        np.testing.assert_array_equal(getattr(back, name), getattr(pop, name))
    np.testing.assert_array_equal(back.iga0, pop.iga0)
    with pytest.raises(InvalidInputError, match="missing"):
        Population.from_frame(pop.to_frame()[["age_y", "sex"]])


def test_simulate_patients_takes_a_table_directly():
    pop = sample_population("true-ad3", 6, 8)
    a = simulate_patients(pop, Regimen.bid(1.5), 4, 1, record=("easi",))
    b = simulate_patients(pop.to_frame(), Regimen.bid(1.5), 4, 1, record=("easi",))
    np.testing.assert_array_equal(a["easi"], b["easi"])
    with pytest.raises(InvalidInputError, match="missing easi0"):
        simulate_patients(pop.to_frame().drop(columns="easi0"), Regimen.bid(1.5), 4, 1)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.drop(columns="AGE"), r"column age_y: missing"),
    (lambda t: t.assign(SEX=["F", "X", *t["SEX"][2:]]), r"column sex, row 2: expected F or M, got 'X'"),
    (lambda t: t.assign(WT=[18000.0, *t["WT"][1:]]), r"column weight_kg, row 1: expected a value in \[5"),
    (lambda t: t.assign(IGA0=[2.5, *t["IGA0"][1:]]), r"column iga0, row 1: expected a whole IGA grade"),
    (lambda t: t.assign(EASI0=[np.nan, *t["EASI0"][1:]]), r"column easi0, row 1: expected a number"),
    (lambda t: t.assign(region_pct_head=1.0), r"column region_pct_neck: missing"),
    (lambda t: t.iloc[:0], r"no rows"),
])
def test_bad_tables_are_refused_in_one_line(edit, message):
    table = edit(_children(5))
    with pytest.raises(DataValidationError, match=message) as exc:
        sample_population("true-ad3", None, 1, covariates=table)
    assert "\n" not in str(exc.value) and str(exc.value).startswith("covariate table (data frame)")


def test_region_map_must_add_up_to_affected(tmp_path):
    pop = sample_population("true-ad3", 4, 8)
    frame = pop.to_frame()
    frame.loc[1, "affected_pct"] += 1.0
    with pytest.raises(DataValidationError, match=r"column affected_pct, row 2: expected the sum"):
        sample_population("true-ad3", None, 1, covariates=frame)
    with pytest.raises(DataValidationError, match="no such file"):
        sample_population("true-ad3", None, 1, covariates=tmp_path / "none.csv")
    with pytest.raises(InvalidInputError, match="n must equal the covariate table's 4 rows"):
        sample_population("true-ad3", 5, 1, covariates=pop.to_frame())


def test_user_population_file_loses_the_status_of_what_it_changes(tmp_path):
    text = (SPEC_DIR / "true-ad3.toml").read_text()
    builtin = load_population_spec("true-ad3")
    assert builtin.severity.easi.status == "C"
    user = tmp_path / "my-ad3.toml"
    old = "easi = { mean = 8.6, sd = 5.4,"
    assert text.count(old) == 1
    user.write_text(text.replace(old, "easi = { mean = 12.0, sd = 5.4,"))
    spec = load_population_spec(user)
    assert spec.severity.easi.mean == 12.0
    assert spec.severity.easi.status == "U"
    assert "8.6" in spec.severity.easi.note and "was C" in spec.severity.easi.note
    # what it does not change keeps its status
    assert spec.severity.easi_ratio_iga3_to_iga2.status == builtin.severity.easi_ratio_iga3_to_iga2.status
    assert spec.female_pct.status == builtin.female_pct.status
    # an unchanged copy keeps every status
    same = tmp_path / "same.toml"
    same.write_text(text)
    assert load_population_spec(same) == builtin
