"""The NONMEM/Monolix dataset of a simulated TRuE-AD3 run (issue 18): documented columns, dosing
records that reproduce the regimen exactly, reads back with pandas and R."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from dermsim.cdisc.nonmem import DICTIONARY, build_nonmem_dataset, expand_doses
from dermsim.cli import main
from dermsim.model.parameters import default_parameters
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.regimen import Regimen

pytestmark = pytest.mark.slow  # one small simulated trial with its extension (~15 s)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("nm") / "ad3"
    assert main(["trial", "simulate", "true-ad3", "--seed", "3", "--n", "24", "--format", "nonmem",
                 "--posterior", "prior", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def study():
    from dermsim.trial import load_design, simulate_trial

    return simulate_trial(load_design("true-ad3"), 3, n=24)


def test_reads_back_with_pandas_with_the_documented_columns(run_dir):
    data = pd.read_csv(run_dir / "nonmem" / "nonmem.csv")
    dictionary = pd.read_csv(run_dir / "nonmem" / "nonmem_dictionary.csv")
    assert list(dictionary["column"]) == list(data.columns)
    assert set(DICTIONARY) <= set(data.columns)
    assert not (run_dir / "sdtm").exists()  # --format nonmem alone writes the NONMEM folder only
    numeric = data.drop(columns="USUBJID")
    assert all(pd.api.types.is_numeric_dtype(numeric[c]) for c in numeric.columns)
    assert data["ID"].nunique() == 24 and data["ID"].is_monotonic_increasing
    assert set(data["EVID"]) == {0, 1} and (data["MDV"] == data["EVID"]).all()
    obs = data[data["EVID"] == 0]
    assert set(obs["DVID"]) >= {1, 2, 3} and (obs["AMT"] == 0).all()
    # per subject, time never goes back; at equal times observations come before doses (pre-dose)
    assert (data.groupby("ID")["TIME"].diff().fillna(0) >= 0).all()
    first = data.groupby("ID").head(1)
    assert (first["EVID"] == 0).all() and (first["TIME"] == 0).all()
    # scores equal QS, plasma is positive on drug after day 1
    assert obs.loc[obs["DVID"] == 1].query("TIME > 0 and STRENGTH > 0")["DV"].gt(0).all()


def test_dosing_records_reproduce_the_regimen_exactly(study):
    data, _ = build_nonmem_dataset(study)
    doses = expand_doses(data)
    design = study.design
    params = default_parameters()
    cov = study.covariates.set_index("USUBJID")
    ids = {u: i + 1 for i, u in enumerate(study.dm["USUBJID"])}
    dm = study.dm.set_index("USUBJID")
    arms = {a.label: a for a in design.arms}
    for row in study.ex.itertuples(index=False):
        label = dm.loc[row.USUBJID, "ARM" if row.EPOCH == "VEHICLE-CONTROLLED" else "ARM2"]
        arm = arms[label]
        first, last = int(row.EXSTDY), int(row.EXENDY)
        got = doses[(doses["ID"] == ids[row.USUBJID]) & (doses["TIME"] >= (first - 1) * 24)
                    & (doses["TIME"] < last * 24)]
        if arm.strength_pct == 0:
            assert got.empty
            continue
        # the regimen the model ran: this arm's daily pattern every day of the period
        regimen = Regimen(strength_pct=arm.strength_pct, application_times_h=arm.application_times_h,
                          adherence=float(cov.loc[row.USUBJID, "model_adherence"]))
        plan = regimen.compile(last - first + 1)
        times = [(first - 1 + d) * 24 + plan.event_times_h[e] for d in range(last - first + 1)
                 for e in np.flatnonzero(plan.applies[d])]
        np.testing.assert_array_equal(got["TIME"].to_numpy(), np.array(times, dtype=float))
        # amount: the child's usual load (children under 12) on the treated area x adherence, x
        # strength, recomputed here
        c = cov.loc[row.USUBJID]
        area = pk.compute_treated_area_cm2(np.array([c["bsa_m2"]]), np.array([c["affected_pct"]]))
        g_cm2 = pk.compute_usual_load_g_per_cm2(np.array([c["age_y"]]), params.value("g_per_cm2"),
                                                params.value("g_per_cm2_child"),
                                                params.value("load_child_max_y"))
        grams = pk.compute_grams_per_application(regimen, area, g_cm2)
        np.testing.assert_allclose(got["AMT"].to_numpy(), pk.compute_dose_mg(grams, arm.strength_pct)[0],
                                   rtol=1e-12)


def test_observations_match_qs_and_covariates_the_population(study):
    data, _ = build_nonmem_dataset(study)
    qs = study.qs[study.qs["QSTESTCD"] == "EASI"]
    easi = data[(data["DVID"] == 2)]
    np.testing.assert_array_equal(np.sort(easi["DV"].to_numpy()), np.sort(qs["QSSTRESN"].to_numpy()))
    per = data.groupby("ID").first()
    cov = study.covariates
    np.testing.assert_array_equal(per["AGE"].to_numpy(), cov["age_y"].to_numpy())
    np.testing.assert_array_equal(per["WT"].to_numpy(), cov["weight_kg"].to_numpy())
    np.testing.assert_array_equal(per["SEX"].to_numpy(), (cov["sex"] == "F").astype(int).to_numpy())


@pytest.mark.external
def test_reads_back_with_r_read_csv(run_dir, tmp_path):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (scripts/install-external.sh installs it)")
    script = ("d <- read.csv(commandArgs(TRUE)[1]); stopifnot(all(c('ID','TIME','AMT','EVID','MDV','CMT',"
              "'II','ADDL','DV') %in% names(d))); cat(nrow(d), ncol(d), sum(d$EVID == 1), "
              "sprintf('%.17g', sum(d$AMT)), sprintf('%.17g', sum(d$DV)), '\\n')")
    res = subprocess.run(["Rscript", "-e", script, str(run_dir / "nonmem" / "nonmem.csv")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    rows, cols, n_dose, amt, dv = res.stdout.split()
    data = pd.read_csv(run_dir / "nonmem" / "nonmem.csv")
    assert (int(rows), int(cols), int(n_dose)) == (len(data), data.shape[1], int((data["EVID"] == 1).sum()))
    assert float(amt) == pytest.approx(data["AMT"].sum(), rel=1e-12)
    assert float(dv) == pytest.approx(data["DV"].sum(), rel=1e-12)


def test_vpc_of_the_nonmem_dataset_simulates_its_subjects(run_dir, tmp_path):
    from dermsim.calibration.posterior import resolve_model
    from dermsim.calibration.vpc import nonmem_arms
    from dermsim.workflows.vpc import write_vpc

    path = run_dir / "nonmem" / "nonmem.csv"
    arms = nonmem_arms(path, population="true-ad3")
    data = pd.read_csv(path)
    assert sum(a.n_arm for a in arms) == data["ID"].nunique() == 24
    assert sorted(a.strength_pct for a in arms) == [0.0, 0.75, 1.5]
    # each arm's virtual subjects are the dataset's (ages and %BSA kept exactly)
    first = data.groupby("ID").first()
    for a in arms:
        ids = first.index[(first["ARMN"] == int(a.arm.split()[-1])) & (first["EPOCH"] == 1)]
        # the cohort repeats the arm's subjects (at least n_pool virtual patients)
        k = len(ids)
        assert a.population.n >= 300 and a.n_arm == k
        np.testing.assert_array_equal(a.population.age_y[:k], first.loc[ids, "AGE"].to_numpy())
        np.testing.assert_array_equal(a.population.age_y[k:2 * k], first.loc[ids, "AGE"].to_numpy())
        np.testing.assert_array_equal(a.population.affected_pct[:k], first.loc[ids, "AFFPCT"].to_numpy())
        assert a.observed
    # the week-8 visit is read (an arm of 4 children may have none left at week 8)
    assert any(w == 8.0 for a in arms for (_, w) in a.observed)
    model = resolve_model("shipped")
    if model.posterior is None:
        pytest.skip("no usable shipped posterior")
    run = write_vpc(model.posterior, tmp_path / "vpc", data=path, n_draws=1, n_replicates=50, n_pool=40)
    assert {p.name for p in run.files} == {"vpc.csv", "vpc.png", "vpc.svg", "vpc.json"}
    assert run.table["observed"].notna().any()
