"""MAP + Laplace + importance sampling on a toy problem with a known posterior, and the v2 covariance."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.calibration.laplace import LaplaceISConfig, compute_ess, run_laplace_is
from dermsim.calibration.likelihood import compute_covariance
from dermsim.calibration.preregister_v2 import compute_km_median
from dermsim.calibration.priors import CalibratedParameter, Prior
from dermsim.calibration.targets import Target, TargetSet


class ToyObjective:
    """y = A z + e, e ~ N(0, I sigma^2); the Objective interface run_laplace_is needs."""

    def __init__(self, a: np.ndarray, y: np.ndarray, sigma: float, prior: Prior) -> None:
        self.a, self.y, self.sigma, self.prior = a, y, sigma, prior
        self.targets = list(y)
        self.mc_var = None

    def expected(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = np.atleast_2d(z)[0]
        return self.a @ z, np.zeros(self.y.shape[0])

    def fix_covariance(self, mc_var: np.ndarray) -> None:
        self.mc_var = mc_var

    def residuals_from_expected(self, z: np.ndarray, mu: np.ndarray) -> np.ndarray:
        return np.concatenate([(mu - self.y) / self.sigma, (z - self.prior.mean) / self.prior.sd])


def _prior(d: int) -> Prior:
    return Prior(parameters=tuple(CalibratedParameter(f"x{i}", "", "trial", "identity", 0.0, 2.0, "-", "toy")
                                  for i in range(d)))


def test_laplace_is_recovers_a_gaussian_posterior_with_many_distinct_draws():
    rng = np.random.default_rng(1)
    d = 3
    a = rng.normal(size=(8, d))
    z_true = np.array([0.5, -1.0, 0.3])
    y = a @ z_true + 0.2 * rng.normal(size=8)
    prior = _prior(d)
    obj = ToyObjective(a, y, 0.2, prior)
    res = run_laplace_is(obj, LaplaceISConfig(max_iterations=20, target_ess=300, batch=100, max_draws=1000),
                         seed=3)
    # exact posterior of the linear-Gaussian model
    prec = a.T @ a / 0.04 + np.eye(d) / 4.0
    cov = np.linalg.inv(prec)
    mean = cov @ (a.T @ y / 0.04)
    np.testing.assert_allclose(res.z_map, mean, atol=1e-4)
    np.testing.assert_allclose(res.cov, cov, rtol=1e-3)
    w = res.weights
    np.testing.assert_allclose(w @ res.draws_z, mean, atol=4 * np.sqrt(np.diag(cov)).max() / np.sqrt(300))
    assert res.map_info["converged"] and res.is_info["converged"]
    assert res.is_info["ess"] >= 300 and res.is_info["ess"] == pytest.approx(compute_ess(w), rel=1e-9)
    assert np.unique(res.draws_z, axis=0).shape[0] == res.draws_z.shape[0]   # every draw distinct
    assert res.expected.shape == (res.draws_z.shape[0], 8)


def test_importance_sampling_stops_at_its_budget_and_says_it_did_not_converge():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 2))
    obj = ToyObjective(a, a @ np.ones(2), 0.1, _prior(2))
    res = run_laplace_is(obj, LaplaceISConfig(max_iterations=10, target_ess=10_000, batch=50, max_draws=100),
                         seed=4)
    assert res.is_info["draws"] == 100 and not res.is_info["converged"]
    assert res.is_info["ess"] <= 100
    assert res.is_info["shipped_weights"].startswith("Laplace")
    # the shipped (Laplace) weights re-weight the same exact draws to N(MAP, cov)
    assert res.is_info["ess_shipped"] == pytest.approx(compute_ess(res.weights), rel=1e-9)


def _target(name: str, trial: str, kind: str, value: float, se: float) -> Target:
    return Target(name=name, kind=kind, evidence_key="k", value=value, n=100, se=se, weight=1.0, status="C",
                  source="s", trial=trial)


def test_between_trial_effect_correlates_only_proportions_of_the_same_trial():
    ts = TargetSet(targets=(_target("a", "t1", "binary", 0.5, 0.05), _target("b", "t1", "binary", 0.2, 0.04),
                            _target("c", "t2", "binary", 0.5, 0.05), _target("d", "t1", "pk", 30.0, 3.0)),
                   version="x", sha256="", path="", trial_sd_logit=0.3)
    cov = compute_covariance(ts, np.array([1e-4, 0.0, 0.0, 0.5]))
    assert cov[0, 0] == pytest.approx(0.05**2 + 1e-4 + 0.09 * 0.25**2)
    assert cov[0, 1] == pytest.approx(0.09 * 0.25 * 0.16)
    assert cov[0, 2] == 0 and cov[0, 3] == 0 and cov[3, 3] == pytest.approx(9.5)
    np.linalg.cholesky(cov)


def test_km_median_handles_censoring():
    t = np.array([4.0, 8.0, 12.0, 44.0, 44.0])
    assert compute_km_median(t, np.array([True, True, True, False, False]), 44.0) == 12.0
    assert compute_km_median(t, np.array([True, False, False, False, False]), 44.0) == 44.0


def test_laplace_mode_ships_equal_weight_draws_and_checks_a_simulated_subset():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(6, 2))
    obj = ToyObjective(a, a @ np.array([0.3, -0.2]) + 0.1 * rng.normal(size=6), 0.1, _prior(2))
    res = run_laplace_is(obj, LaplaceISConfig(max_iterations=20, mode="laplace", n_laplace=1200, batch=50,
                                              max_draws=200), seed=6)
    assert res.draws_z.shape == (1200, 2) and np.allclose(res.weights, 1 / 1200)
    assert np.unique(res.draws_z, axis=0).shape[0] == 1200
    simulated = np.all(np.isfinite(res.expected), axis=1)
    assert simulated.sum() == 200 and simulated[:200].all()
    info = res.is_info
    assert info["simulated_draws"] == 200 and not info["converged"]
    # a linear-Gaussian model: the Laplace approximation is exact, so the check's weights are flat
    assert info["ess_importance_check"] > 190
