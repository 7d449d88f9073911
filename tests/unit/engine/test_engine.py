"""The generic engine: exact linear propagation, the production-loss step, steady states, streams."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from dermsim.engine import (
    block_normals,
    build_day_grid,
    compiled,
    compute_transition,
    iter_chunks,
    propagate,
    solve_steady_state,
    step_production_loss,
    streams,
)
from dermsim.engine.linear import expm_batched, feeding_states
from dermsim.errors import InvalidInputError


def test_expm_batched_matches_scipy_on_stiff_triangular_stacks():
    rng = np.random.default_rng(0)
    a = np.tril(rng.normal(size=(200, 4, 4))) * 2
    a[:, range(4), range(4)] = -np.exp(rng.uniform(-5, 4, size=(200, 4)))
    ref = np.stack([expm(m) for m in a])
    np.testing.assert_allclose(expm_batched(a), ref, rtol=1e-11, atol=1e-14)


def test_feeding_states_follow_flows_of_any_patient_through_cycles():
    k = np.zeros((4, 4, 3))
    k[1, 0, 2] = 0.5   # 0 -> 1 in one patient only
    k[0, 1, :] = 0.2   # 1 -> 0: a cycle
    k[3, 2, :] = 1.0   # 2 -> 3 feeds neither
    k[range(4), range(4), :] = -1.0
    assert feeding_states(k, 1).tolist() == [0, 1]
    assert feeding_states(k, 3).tolist() == [2, 3]
    assert feeding_states(k, 2).tolist() == [2]


def test_propagate_equals_matrix_product():
    rng = np.random.default_rng(1)
    k = -np.abs(rng.normal(size=(3, 3, 50)))
    phi = compute_transition(k, 2.0)
    x = rng.random((3, 50))
    np.testing.assert_allclose(propagate(phi, x), np.einsum("ijn,jn->in", phi, x), rtol=1e-14)


def test_production_loss_step_is_exact_for_constant_linear_kinetics():
    p, lam, y0, h = 2.0, 50.0, np.array([[3.0]]), 0.7   # l h = 35: very stiff
    y1 = step_production_loss(y0, h, lambda y: (np.full_like(y, p), np.full_like(y, lam)))
    exact = p / lam + (3.0 - p / lam) * np.exp(-lam * h)
    np.testing.assert_allclose(y1[0, 0], exact, rtol=1e-13)


def test_production_loss_step_is_second_order():
    # logistic-type: dy/dt = 1 - y^2 (production 1, loss y); exact tanh solution from y0 = 0
    def solve(h: float) -> float:
        y = np.zeros((1, 1))
        for _ in range(round(1.0 / h)):
            y = step_production_loss(y, h, lambda v: (np.ones_like(v), v.copy()))
        return float(y[0, 0])
    errs = [abs(solve(h) - np.tanh(1.0)) for h in (0.1, 0.05, 0.025)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(orders > 1.8), orders


def test_steady_state_of_batched_logistic_growth():
    r = np.array([0.5, 2.0, 10.0])
    kcap = np.array([1.0, 5.0, 0.2])

    def rhs(y, idx):
        return r[idx] * y * (1 - y / kcap[idx])
    y = solve_steady_state(rhs, np.full((1, 3), 0.01), lower=np.array([1e-12]))
    np.testing.assert_allclose(y[0], kcap, rtol=1e-9)


def test_day_grid_puts_doses_on_step_boundaries():
    g = build_day_grid((0.0, 8.0), max_step_h=8.0)
    assert g.starts_h == (0.0, 8.0, 16.0)
    assert g.event_at_start == (0, 1, -1)
    g2 = build_day_grid((7.0, 19.0), max_step_h=5.0)
    assert sum(g2.steps_h) == pytest.approx(24.0)
    assert {g2.starts_h[i] for i, e in enumerate(g2.event_at_start) if e >= 0} == {7.0, 19.0}
    assert max(g2.steps_h) <= 5.0


def test_block_streams_do_not_depend_on_chunking():
    whole = block_normals(5, 0, 0, 3000, 4)
    parts = np.vstack([block_normals(5, 0, a, min(a + 700, 3000), 4) for a in range(0, 3000, 700)])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(block_normals(5, 1, 0, 10, 4), whole[:10])


def test_chunks_reject_zero_patients():
    with pytest.raises(InvalidInputError, match="n must be an integer >= 1"):
        list(iter_chunks(0, 10))


def test_steady_state_reports_unconverged_patients():
    from dermsim.errors import SolverError

    def rhs(y, idx):
        return 1.0 - y
    with pytest.raises(SolverError, match="did not converge for 2 of 2 patients after 1 attempts"):
        solve_steady_state(rhs, np.full((1, 2), 5.0), max_iter=2, retries=0)
    with pytest.raises(SolverError, match="after 3 attempts"):
        solve_steady_state(rhs, np.full((1, 2), 5.0), max_iter=2, retries=2)
    np.testing.assert_allclose(solve_steady_state(rhs, np.full((1, 2), 5.0)), 1.0, rtol=1e-9)


@pytest.mark.skipif(not compiled.HAVE_NUMBA, reason="numba is not installed")
def test_compiled_normals_are_numpys_numbers(monkeypatch):
    # numpy's own block, cut as the streams cut it, is the reference; the compiled filler must give
    # the same numbers for partial blocks of patients and days, two day blocks, a one-day run
    from dermsim._rng import child_generator

    assert streams._normal_filler() is compiled.fill_standard_normal  # the engine is loaded here
    cases = [(300, 2100, 3, 70), (1023, 1025, 63, 65), (5, 6, 0, 1), (0, 2048, 0, 57)]
    got = [streams.block_normals_by_day(7, 2, *c) for c in cases]
    monkeypatch.setattr(streams, "_normal_filler", lambda: None)
    for (a, b, d0, d1), g in zip(cases, got, strict=True):
        np.testing.assert_array_equal(g, streams.block_normals_by_day(7, 2, a, b, d0, d1))
    first = child_generator(7, 2, 0, 1).standard_normal((1024, 64))
    np.testing.assert_array_equal(got[0][:724, 61:], first[300:, :6])  # days 64-69 of patients 300-1023
    by_numpy = streams.block_normals(7, 3, 700, 1500, 6)  # parameter draws: whole rows, a block boundary
    monkeypatch.undo()
    np.testing.assert_array_equal(streams.block_normals(7, 3, 700, 1500, 6), by_numpy)
