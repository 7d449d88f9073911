"""Sensitivity analysis (issue 18): Sobol' indices by SALib against the Ishigami function's known
indices, then on the model (Css, and IGA-TS at week 8 on a tiny cohort)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dermsim._rng import child_generator
from dermsim.calibration.sensitivity import (
    _IIV_STREAM,
    ISHIGAMI_PROBLEM,
    ModelOutputs,
    ishigami,
    ishigami_indices,
    posterior_problem,
    sobol,
    tornado,
)
from dermsim.cli import main
from dermsim.errors import InvalidInputError
from dermsim.model.disease import dynamics
from dermsim.model.parameters import compute_individual_values
from dermsim.model.pharmacology import pk
from dermsim.model.simulate import prepare_patients


def test_sobol_reproduces_the_ishigami_indices():
    res = sobol(ishigami, ISHIGAMI_PROBLEM, 4096, seed=2)
    exact = ishigami_indices()
    np.testing.assert_allclose(res["S1"], exact["S1"], atol=0.02)
    np.testing.assert_allclose(res["ST"], exact["ST"], atol=0.02)
    # the bootstrap intervals are honest about the error
    assert np.all(np.abs(res["ST"] - exact["ST"]) <= 2 * res["ST_conf"] + 1e-3)
    with pytest.raises(InvalidInputError, match="power of 2"):
        sobol(ishigami, ISHIGAMI_PROBLEM, 1000)


def test_batched_css_equals_the_parameter_set_route(shipped):
    problem = posterior_problem(shipped)
    ev = ModelOutputs(shipped, problem, n_patients=12, seed=3)
    rng = np.random.default_rng(0)
    X = problem.lower + rng.random((3, len(problem.names))) * (problem.upper - problem.lower)
    got = ev(X, "css")
    pop = ev._pop
    cols = {k: np.asarray(getattr(pop, k)) for k in ("age_y", "weight_kg", "bsa_m2", "affected_pct", "easi0",
                                                      "iga0", "nrs0")}
    for row, x in zip(got, X, strict=True):
        ps = ev.parameter_set(x)
        names = list(ps.group("pk"))
        z = child_generator(3, _IIV_STREAM).standard_normal((len(names), pop.n))
        ind = compute_individual_values(ps, "pk", dict(zip(names, z, strict=True)), pop.n)
        base = prepare_patients(cols, ev.regimen, ev.parameter_set(problem.median), 3, 0, pop.n)
        ppk = pk.derive_patient_pk(ind, ev.regimen, weight_kg=cols["weight_kg"], bsa_m2=cols["bsa_m2"],
                                   affected_pct=cols["affected_pct"], age_y=cols["age_y"])
        css = pk.compute_css_nM(ppk, ppk.grams, 1.5, 2, 1.0 - base.y0[dynamics.B])
        assert row == pytest.approx(float(css.mean()), rel=1e-12)


def test_css_sobol_on_the_model_finds_the_absorption_parameters(shipped):
    problem = posterior_problem(shipped)
    ev = ModelOutputs(shipped, problem, n_patients=40, seed=1)
    res = sobol(lambda X: ev(X, "css"), problem, 256, seed=1).set_index("parameter")
    # mass balance: the average steady-state level is absorbed dose / clearance, so the kinetic
    # rates (k_a, f_fast, k_sv) and every PD or score parameter have no effect at all
    for name in ("k_a", "f_fast", "k_sv", "hill", "Imax", "p_easi", "iga_c1"):
        assert res.loc[name, "ST"] == 0.0
    top = set(res["ST"].sort_values(ascending=False).index[:2])
    assert top <= {"Jmax", "L50", "omega_J"}
    assert res["ST"].max() > 0.2


def test_tornado_on_iga_ts_w8_small(shipped):
    problem = posterior_problem(shipped, ["Imax", "k_a"])
    ev = ModelOutputs(shipped, problem, n_patients=30, seed=1, workers=1)
    tab = tornado(lambda X: ev(X, "iga_ts_w8"), problem)
    assert list(tab.columns[:4]) == ["parameter", "low", "median", "high"] and len(tab) == 2
    assert tab["output_median"].between(0, 100).all()
    # a stronger maximal block gives at least as many responders on the same cohort
    imax = tab.set_index("parameter").loc["Imax"]
    assert imax["output_high"] >= imax["output_low"]
    with pytest.raises(InvalidInputError, match="--params must name calibrated parameters"):
        posterior_problem(shipped, ["nope"])


def test_cli_sensitivity_writes_csv_figure_and_provenance(tmp_path, capsys, shipped):
    out = tmp_path / "sens"
    assert main(["model", "sensitivity", "--output", "css", "--method", "sobol", "--n", "64",
                 "--patients", "10", "--out", str(out)]) == 0
    files = {p.name for p in out.iterdir()}
    assert {"sensitivity.csv", "sobol.png", "sobol.svg", "sensitivity.json"} <= files
    meta = json.loads((out / "sensitivity.json").read_text())
    assert meta["provenance"]["posterior_sha256"]
    assert meta["evaluations"] == 64 * (len(meta["parameters"]) + 2)
    capsys.readouterr()
    assert main(["model", "sensitivity", "--output", "css", "--n", "100", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--n must be a power of 2" in err[0]
    assert main(["model", "sensitivity", "--output", "easi90", "--out", str(tmp_path / "y")]) == 2
