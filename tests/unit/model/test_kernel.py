"""The compiled kernel (model.kernel) against the NumPy reference path, and its invariances."""

from __future__ import annotations

import numpy as np
import pytest
from _vp import make_population

from dermsim.engine import compiled
from dermsim.engine.linear import compute_transition
from dermsim.engine.stepper import phi1
from dermsim.errors import InvalidInputError
from dermsim.model.parameters import default_parameters
from dermsim.model.pharmacology.regimen import AsNeeded, Period, Regimen
from dermsim.model.simulate import simulate_patients

needs_numba = pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="numba is not installed")
RECORD = ("easi", "easi_mean", "iga", "nrs_weekly", "cp_nM", "u", "occupancy", "B", "P", "Th2", "Q", "M",
          "emollient", "applications")


def _max_diffs(a, b):
    easi = float(np.max(np.abs(a["easi"] - b["easi"])))
    cp_a, cp_b = a["cp_nM"], b["cp_nM"]
    pos = cp_b > 0
    cp_rel = float(np.max(np.abs(cp_a[pos] - cp_b[pos]) / cp_b[pos])) if pos.any() else 0.0
    assert np.array_equal(cp_a == 0, cp_b == 0)
    return easi, cp_rel


@needs_numba
def test_compiled_and_numpy_paths_agree_on_10000_patients():
    # the bound: EASI within 0.01 and plasma within 1e-6 relative on 10,000 patients; day 0
    # is an onset day (2 h steps), the rest 8 h steps with two applications 8 h apart
    pop = make_population(10_000, seed=5)
    args = (pop, Regimen.bid(1.5), 15, 7)
    fast = simulate_patients(*args, record=("easi", "cp_nM"), engine="numba")
    ref = simulate_patients(*args, record=("easi", "cp_nM"), engine="numpy")
    easi, cp_rel = _max_diffs(fast, ref)
    assert easi <= 0.01 and cp_rel <= 1e-6
    # same arithmetic in the same order: in practice the paths agree to rounding
    assert easi < 1e-9 and cp_rel < 1e-12


@needs_numba
@pytest.mark.parametrize("regimen, blocked, params", [
    (Regimen(periods=(Period(days=10), Period(days=4, strength_pct=0.0),
                      Period(as_needed=AsNeeded(start_at=2, stop_at=0)))), None, "default"),
    (Regimen.bid(0.75), "IL13", "first-version"),
    (Regimen.bid(0.0), "none", "default"),
], ids=["schedule-vehicle-as-needed", "il13-only-no-memory", "vehicle-no-drug"])
def test_compiled_path_equals_numpy_on_regimens_and_model_variants(regimen, blocked, params):
    pop = make_population(150, seed=3, adult=True)
    ps = default_parameters()
    if params == "first-version":  # no memory parameters: memory factor 1, M stays put
        ps = type(ps)(groups={g: {k: v for k, v in grp.items() if k not in ("m_mem", "tau_mem")}
                              for g, grp in ps.groups.items()})
    kw = {"record": RECORD, "blocked": blocked, "params": ps}
    fast = simulate_patients(pop, regimen, 40, 9, engine="numba", **kw)
    ref = simulate_patients(pop, regimen, 40, 9, engine="numpy", **kw)
    for name in RECORD:
        np.testing.assert_allclose(fast[name], ref[name], rtol=1e-9, atol=1e-11, err_msg=name)
    for name in ("disease", "pk", "emollient", "occupancy"):
        np.testing.assert_allclose(getattr(fast.final_state, name), getattr(ref.final_state, name),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


@needs_numba
def test_thread_count_and_chunk_size_do_not_change_the_numbers():
    pop = make_population(700, seed=8)
    reg = Regimen.bid(1.5)
    runs = [simulate_patients(pop, reg, 12, 4, record=("easi", "cp_nM", "M"), engine="numba",
                              threads=t, chunk_size=c, workers=w)
            # (None, 64, None): all cores, a worker thread per core running kernels side by side
            for t, c, w in ((1, 700, 1), (2, 256, 1), (2, 100, 2), (1, 333, 2), (None, 64, None))]
    for other in runs[1:]:
        for name in ("easi", "cp_nM", "M"):
            assert np.array_equal(runs[0][name], other[name]), name


@needs_numba
def test_restart_from_a_saved_state_continues_exactly_in_compiled_code():
    pop = make_population(90, seed=2)
    reg = Regimen.bid(1.5)
    whole = simulate_patients(pop, reg, 20, 6, record=("easi", "cp_nM"), engine="numba")
    first = simulate_patients(pop, reg, 8, 6, record=("easi", "cp_nM"), engine="numba")
    rest = simulate_patients(pop, reg, 12, 6, record=("easi", "cp_nM"), engine="numba",
                             initial_state=first.final_state)
    for name in ("easi", "cp_nM"):
        np.testing.assert_allclose(np.concatenate([first[name], rest[name][:, 1:]], axis=1), whole[name],
                                   rtol=1e-12, atol=1e-12)


@needs_numba
def test_compiled_transition_matrices_equal_the_numpy_expm():
    rng = np.random.default_rng(0)
    n, k = 300, 5  # more than one block of lanes, the last one partial
    K = np.tril(rng.uniform(0.01, 3.0, (n, k, k)), -1)
    K[:, range(k), range(k)] = -rng.uniform(0.01, 3.0, (n, k))
    K = np.moveaxis(K, 0, -1)
    exposure = rng.uniform(0.5, 2.0, n)
    phi, rows = compiled.transitions(K, np.array([2.0, 8.0]), np.array([0.25, 0.75]), 4, exposure)
    for a, h in enumerate((2.0, 8.0)):
        np.testing.assert_allclose(phi[a], compute_transition(K, h), rtol=1e-12, atol=1e-15)
        ref_node = compute_transition(K, 0.75 * h)[4] * exposure
        np.testing.assert_allclose(rows[a, 1], ref_node, rtol=1e-12, atol=1e-15)
    # the PK model's pattern: state 3 (plasma) does not feed state 4 (effect site), so the node rows
    # come from the exponential of states 0, 1, 2, 4 alone
    K[4, 3] = 0.0
    _, rows = compiled.transitions(K, np.array([8.0]), np.array([0.25, 0.75]), 4, exposure)
    assert np.all(rows[0, :, 3] == 0.0)
    for q, c in enumerate((0.25, 0.75)):
        np.testing.assert_allclose(rows[0, q], compute_transition(K, c * 8.0)[4] * exposure, rtol=1e-12,
                                   atol=1e-15)
    full = K.copy()
    full[0, 4] = 0.3  # not lower triangular: the full products
    phi_full, _ = compiled.transitions(full, np.array([8.0]), np.array([0.5]), 4, exposure)
    np.testing.assert_allclose(phi_full[0], compute_transition(full, 8.0), rtol=1e-12, atol=1e-15)


@needs_numba
def test_propagation_computes_every_term_some_patient_needs(monkeypatch):
    from dermsim.model import kernel

    rng = np.random.default_rng(1)
    m = 200
    phi = np.tril(rng.uniform(0.1, 1.0, (1, 5, 5, m)).transpose(0, 3, 1, 2)).transpose(0, 2, 3, 1)
    phi[0, 4, 3] = 0.0   # the chain's plasma -> effect site zero ...
    phi[0, 0, 4, 7] = 0.5  # ... and one patient with an upper-triangle term
    terms = kernel.propagation_terms(phi)
    chain = {(r, c) for r in range(5) for c in range(r + 1)} - {(4, 3)}
    assert {(r, c) for r, c, _ in terms} == chain | {(0, 4)}
    assert [r for r, _, first in terms if first] == [0, 1, 2, 3, 4]
    x = rng.uniform(0.0, 2.0, (5, m))
    w = np.zeros((kernel.W_NODE0 + 1, kernel.PATIENT_BLOCK))
    w[kernel.W_X:kernel.W_X + 5, :m] = x
    kernel._propagate_block(w, np.uint64(m), np.uint64(0), 0, phi, terms)
    np.testing.assert_allclose(w[kernel.W_X:kernel.W_X + 5, :m], np.einsum("rcn,cn->rn", phi[0], x),
                               rtol=1e-15)
    # the model's PK chain: lower triangular, and the plasma does not feed the effect site
    seen = []
    real = kernel.propagation_terms
    monkeypatch.setattr(kernel, "propagation_terms", lambda p: seen.append(real(p)) or seen[-1])
    simulate_patients(make_population(20, seed=3), Regimen(strength_pct=1.5), 2, 1, engine="numba")
    assert seen and all({(r, c) for r, c, _ in t} == chain for t in seen)


def test_backend_choice(monkeypatch):
    monkeypatch.delenv(compiled.ENV_BACKEND, raising=False)
    assert compiled.resolve_backend("numpy") == "numpy"
    assert compiled.resolve_backend("auto") == ("numba" if compiled.HAVE_NUMBA else "numpy")
    monkeypatch.setenv(compiled.ENV_BACKEND, "numpy")
    assert compiled.resolve_backend("auto") == "numpy"
    with pytest.raises(InvalidInputError, match="engine backend must be one of"):
        compiled.resolve_backend("fortran")
    pop = make_population(5, seed=1)
    with pytest.raises(InvalidInputError, match="threads must be"):
        simulate_patients(pop, Regimen.bid(1.5), 2, 1, threads=0)
    monkeypatch.setattr(compiled, "HAVE_NUMBA", False)
    monkeypatch.delenv(compiled.ENV_BACKEND)
    assert compiled.resolve_backend("auto") == "numpy"  # the fallback on a platform without numba
    with pytest.raises(InvalidInputError, match="needs the numba package"):
        compiled.resolve_backend("numba")


def test_cli_simulate_threads_option_does_not_change_the_file(tmp_path, monkeypatch, capsys):
    import pyarrow.parquet as pq

    import dermsim.workflows.model as sim_workflow
    from dermsim.cli import main

    monkeypatch.setattr(sim_workflow, "_sample",
                        lambda name, n, seed: make_population(n, seed=seed, name=name))
    tables = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}.parquet"
        assert main(["simulate", "--n", "30", "--weeks", "1", "--seed", "3", "--out", str(out),
                     "--posterior", "prior", "--threads", threads]) == 0
        tables.append(pq.read_table(out))
    assert tables[0].equals(tables[1])
    assert main(["simulate", "--n", "3", "--weeks", "1", "--seed", "3", "--out", str(tmp_path / "x.parquet"),
                 "--threads", "0"]) == 2
    assert "threads must be an integer >= 1" in capsys.readouterr().err


@needs_numba
def test_vectorizable_exp_log_and_phi1_match_libm_to_a_few_ulp():
    # the kernel's own exp/log/phi1 (vectorizable, model.kernel) against NumPy over their ranges of use
    from numba import njit

    from dermsim.model import kernel

    @njit
    def apply(fn_id, x):
        out = np.empty_like(x)
        for i in range(x.size):
            if fn_id == 0:
                out[i] = kernel._exp(x[i])
            elif fn_id == 1:
                out[i] = kernel._log(x[i])
            else:
                out[i] = kernel._phi1(x[i])
        return out

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-700, 700, 20_000), rng.uniform(-1, 1, 20_000)])
    np.testing.assert_allclose(apply(0, x), np.exp(x), rtol=4e-16, atol=0)
    u = np.exp(rng.uniform(-690, 690, 20_000))
    np.testing.assert_allclose(apply(1, u), np.log(u), rtol=4e-16, atol=1e-300)
    # phi1 over [0, ln2/2] (k = 0), across k = -1, ..., where exp's clamp at -708 takes over, and far
    # beyond (1/x)
    z = np.concatenate([[0.0, 1e-300, 0.3465, 0.3466, 700.0, 708.0, 709.0, 1e5, 1e300],
                        rng.uniform(0, 0.3, 20_000), np.exp(rng.uniform(-30, 7, 20_000))])
    np.testing.assert_allclose(apply(2, z), phi1(z), rtol=4.5e-16, atol=0)  # 2 ulp of engine.stepper's


@needs_numba
def test_compiled_baseline_steady_state_equals_the_numpy_solver():
    # the same pseudo-transient continuation patient by patient (its own LU instead of LAPACK's):
    # equal to rounding, and a true steady state (the right-hand side vanishes)
    from dermsim._rng import as_seed_sequence, child_sequence
    from dermsim.model import kernel, simulate
    from dermsim.model.disease import dynamics

    seq = child_sequence(as_seed_sequence(3), simulate.MODEL_STREAM_KEY)
    ind = simulate.individual_values(default_parameters(), seq, 0, 2000)
    fast = kernel.solve_baseline(ind["disease"], ind["itch"], threads=2)
    ref = dynamics.solve_baseline(ind["disease"], ind["itch"])
    np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=0)
    assert np.array_equal(fast, kernel.solve_baseline(ind["disease"], ind["itch"], threads=1))



@needs_numba
@pytest.mark.parametrize("max_iter", [200, 9], ids=["settings", "retries"])
def test_baseline_lanes_take_the_iterates_of_the_patient_by_patient_solver(max_iter):
    # the block solver runs patients side by side in SIMD lanes (pivots by selects, converged lanes
    # frozen); each lane must take exactly the scalar solver's iterates. max_iter 9 leaves most
    # lanes unconverged, so the retries (patient by patient) run too.
    from dermsim._rng import as_seed_sequence, child_sequence
    from dermsim.engine import steady
    from dermsim.model import kernel, simulate
    from dermsim.model.disease import dynamics

    seq = child_sequence(as_seed_sequence(4), simulate.MODEL_STREAM_KEY)
    ind = simulate.individual_values(default_parameters(), seq, 0, 600)  # two full blocks and a part
    c, _, _ = kernel.parameter_table(ind["disease"], ind["itch"], {}, 600)
    args = (np.zeros((6, 600)), dynamics.MIYANO_SEED.astype(float), dynamics.LOWER.astype(float),
            dynamics.UPPER.astype(float), steady.RTOL, steady.DT0, steady.DT_MAX, max_iter, steady.GROWTH)
    out, status = np.empty((dynamics.N_CORE, 600)), np.empty(600, dtype=np.int64)
    kernel._solve_baseline(c, *args, steady.RETRIES, out, status)
    imax, y0, lower, upper, rtol, dt0, dt_max, _, growth = args
    for i in range(600):
        y = np.empty(dynamics.N_CORE)
        st = kernel._ptc_patient(c, i, imax, y0, lower, upper, rtol, dt0, dt_max, max_iter, growth, y)
        d0, g = dt0, growth
        for _ in range(steady.RETRIES):
            if st != 0:
                break
            d0, g = d0 / 10.0, max(1.5, g / 2.0)
            st = kernel._ptc_patient(c, i, imax, y0, lower, upper, rtol, d0, dt_max, 2 * max_iter, g, y)
        assert status[i] == st and np.array_equal(out[:, i], y), i
    assert status.min() == 1 if max_iter == 200 else status.min() == 0  # the retries ran out for some


@needs_numba
def test_baseline_solver_machine_code_equals_its_source_run_as_python(monkeypatch):
    # the lanes and the patient-by-patient retries line by line (max_iter 9: most lanes retry),
    # against their machine code; 40 patients keep the Python run short
    from dermsim._rng import as_seed_sequence, child_sequence
    from dermsim.engine import steady
    from dermsim.model import kernel, simulate
    from dermsim.model.disease import dynamics

    seq = child_sequence(as_seed_sequence(5), simulate.MODEL_STREAM_KEY)
    ind = simulate.individual_values(default_parameters(), seq, 0, 40)
    c, _, _ = kernel.parameter_table(ind["disease"], ind["itch"], {}, 40)
    args = (c, np.zeros((6, 40)), dynamics.MIYANO_SEED.astype(float), dynamics.LOWER.astype(float),
            dynamics.UPPER.astype(float), steady.RTOL, steady.DT0, steady.DT_MAX, 9, steady.GROWTH,
            steady.RETRIES)
    runs = []
    for as_python in (False, True):
        if as_python:
            _kernels_as_python(monkeypatch)
        out, status = np.empty((dynamics.N_CORE, 40)), np.empty(40, dtype=np.int64)
        kernel._solve_baseline(*args, out, status)
        runs.append((out, status))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-12, atol=0)
    assert np.array_equal(runs[1][1], runs[0][1]) and set(runs[0][1]) == {0, 1}


def _kernels_as_python(monkeypatch) -> None:
    """Every compiled function of model.kernel and engine.compiled replaced by its Python source
    (``py_func``), the bit-cast intrinsics by their Python versions: the kernels then run line by
    line."""
    from numba.core.registry import CPUDispatcher

    from dermsim.model import kernel

    for module in (kernel, compiled):
        for name, obj in list(vars(module).items()):
            if isinstance(obj, CPUDispatcher):
                monkeypatch.setattr(module, name, obj.py_func)
    monkeypatch.setattr(kernel, "f64_bits", compiled.f64_bits_py)
    monkeypatch.setattr(kernel, "f64_from_bits", compiled.f64_from_bits_py)


@needs_numba
@pytest.mark.parametrize("regimen", [Regimen.bid(1.5), Regimen.bid(0.0)], ids=["drug", "vehicle"])
def test_machine_code_equals_the_kernel_source_run_as_python(monkeypatch, regimen):
    # what LLVM made of the kernels (vectorized lanes, unsigned indices, no-alias arguments, inlined
    # rates) against their source run line by line: a miscompilation or an aliasing assumption that
    # does not hold would show here. 300 patients: a full block of lanes and a partial one.
    pop = make_population(300, seed=11)
    kw = {"record": ("easi", "cp_nM", "occupancy", "B", "Q", "M"), "engine": "numba", "workers": 1}
    fast = simulate_patients(pop, regimen, 3, 5, **kw)
    _kernels_as_python(monkeypatch)
    slow = simulate_patients(pop, regimen, 3, 5, **kw)
    for name in kw["record"]:
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-12, atol=1e-15, err_msg=name)
