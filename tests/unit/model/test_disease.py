"""Disease core and itch: direct steady state vs long integration, rates, vehicle, itch-scratch."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dermsim.model.disease import dynamics
from dermsim.model.parameters import compute_individual_values, default_parameters


def _draw(n, seed):
    params = default_parameters()
    rng = np.random.default_rng(seed)
    z = {k: rng.standard_normal(n) for k in params.names()}
    return tuple(compute_individual_values(params, g, z, n) for g in ("disease", "itch", "vehicle"))


def test_baseline_is_a_steady_state():
    dp, ip, _ = _draw(500, 1)
    y = dynamics.solve_baseline(dp, ip)
    f = dynamics.compute_rhs(y, dp, ip, None, 0.0)
    assert np.max(np.abs(f) / (np.abs(y) + 1e-8)) < 1e-8
    assert np.all((y[dynamics.B] > 0) & (y[dynamics.B] < 1)) and np.all(y > 0)


@pytest.mark.slow
def test_baseline_equals_long_integration_from_miyano_seed():
    """Miyano integrate 1000 weeks from their seed; LSODA (rtol 1e-10) for 2000 weeks here."""
    dp, ip, _ = _draw(8, 2)
    y = dynamics.solve_baseline(dp, ip)
    for i in range(8):
        one = lambda d, i=i: {k: v[i:i + 1] for k, v in d.items()}  # noqa: E731
        dpi, ipi = one(dp), one(ip)
        def rhs(t, v, dpi=dpi, ipi=ipi):
            return dynamics.compute_rhs(v[:, None], dpi, ipi, None, 0.0)[:, 0]
        sol = solve_ivp(rhs,
                        (0, 2000), dynamics.MIYANO_SEED, method="LSODA", rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(y[:dynamics.N_CORE, i], sol.y[:, -1], rtol=1e-5)
    assert np.all(y[dynamics.M] == 1.0)


def test_rates_are_a_valid_production_loss_split():
    dp, ip, _ = _draw(300, 3)
    rng = np.random.default_rng(0)
    y = dynamics.MIYANO_SEED[:, None] * rng.uniform(0.2, 3, (7, 300))
    y[dynamics.B] = rng.uniform(0.01, 0.99, 300)
    inhib = rng.uniform(0, 0.95, (6, 300))
    prod, loss = dynamics.compute_rates(y, dp, ip, inhib, 0.5)
    assert np.all(prod >= 0) and np.all(loss >= 0)
    np.testing.assert_allclose(dynamics.compute_rhs(y, dp, ip, inhib, 0.5), prod - loss * y, rtol=1e-15)


def test_barrier_recovers_faster_with_vehicle_and_with_drug():
    dp, ip, vp = _draw(200, 4)
    y = dynamics.solve_baseline(dp, ip)
    base = dynamics.compute_rhs(y, dp, ip, None, 0.0)[dynamics.B]
    veh = dynamics.compute_rhs(y, dp, ip, None, vp["k_v"])[dynamics.B]
    drug = dynamics.compute_rhs(y, dp, ip, np.full((6, 200), 0.8), vp["k_v"])[dynamics.B]
    assert np.all(veh > base) and np.all(drug > veh)


def test_itch_scratch_loop_more_itch_more_barrier_loss():
    dp, ip, _ = _draw(50, 5)
    y = dynamics.solve_baseline(dp, ip)
    y2 = y.copy()
    y2[dynamics.Q] *= 2
    assert np.all(dynamics.compute_rhs(y2, dp, ip, None, 0.0)[dynamics.B]
                  < dynamics.compute_rhs(y, dp, ip, None, 0.0)[dynamics.B])


def test_vehicle_rate_mean_is_the_exact_average():
    _, _, vp = _draw(3, 6)
    t = np.linspace(0.3, 0.8, 20001)
    num = np.trapezoid([dynamics.compute_vehicle_rate(s, vp) for s in t], t, axis=0) / 0.5
    np.testing.assert_allclose(dynamics.compute_vehicle_rate_mean(0.3, 0.8, vp), num, rtol=1e-8)


def test_emollient_step_is_exact_and_follows_applications():
    _, _, vp = _draw(4, 7)
    vp = {**vp, "tau_v_off": np.full(4, 0.5)}
    e0 = np.array([0.0, 0.3, 0.9, 0.6])
    drive = np.array([1.0, 0.5, 0.0, 0.6])
    e1, mean = dynamics.step_emollient(e0, drive, 0.4, vp)
    tau = np.where(drive >= e0, vp["tau_v"], vp["tau_v_off"])
    np.testing.assert_allclose(e1, drive + (e0 - drive) * np.exp(-0.4 / tau), rtol=1e-14)
    t = np.linspace(0, 0.4, 40001)
    path = drive[:, None] + (e0 - drive)[:, None] * np.exp(-t[None, :] / tau[:, None])
    np.testing.assert_allclose(mean, np.trapezoid(path, t, axis=1) / 0.4, rtol=1e-8)
    # from 0 under full daily use, the first model's vehicle time course
    e, _ = dynamics.step_emollient(np.zeros(4), 1.0, 0.7, vp)
    np.testing.assert_allclose(vp["k_v"] * e, dynamics.compute_vehicle_rate(0.7, vp), rtol=1e-13)
    assert np.all(dynamics.compute_emollient_drive(1, 1.0, vp) == 0.5)
    assert np.all(dynamics.compute_emollient_drive(3, 1.0, vp) == 1.0)


def test_memory_state_is_neutral_at_baseline_and_follows_severity():
    dp, ip, _ = _draw(50, 8)
    y = dynamics.solve_baseline(dp, ip)
    dp = dynamics.add_memory_reference(dp, y)
    f = dynamics.compute_rhs(y, dp, ip, None, 0.0)
    assert np.max(np.abs(f) / (np.abs(y) + 1e-8)) < 1e-8    # M = 1 = D/D0 is part of the steady state
    healed = y.copy()
    healed[dynamics.B] = np.minimum(0.99, y[dynamics.B] + 0.3)
    assert np.all(dynamics.compute_rhs(healed, dp, ip, None, 0.0)[dynamics.M] < 0)
    # a lower memory lowers every cytokine (and hence the drive of the disease)
    low = y.copy()
    low[dynamics.M] = 0.5
    assert np.all(dynamics.compute_rhs(low, dp, ip, None, 0.0)[dynamics.B] > f[dynamics.B])
