"""ABC-SMC on a toy simulator with known parameters; resumption after an interruption."""

from __future__ import annotations

import numpy as np
import pytest

from dermsim.calibration.priors import CalibratedParameter, Prior
from dermsim.calibration.smc import SMCConfig, compute_kernel_logpdf, run_abc_smc

TRUE = np.array([2.0, 0.3])  # natural scale


def _toy_prior() -> Prior:
    return Prior(parameters=(
        CalibratedParameter("a", "a", "value", "log", 1.0, 1.0, "-", "toy scale"),
        CalibratedParameter("b", "b", "value", "logit", 0.5, 1.5, "-", "toy fraction"),
    ))


def _toy_evaluate(prior: Prior):
    """Summaries: mean of 400 draws of N(a, 1) and a binomial rate b at n=400, with fixed
    (common) random numbers, like the dermsim summaries."""
    rng = np.random.default_rng(12345)
    noise = rng.standard_normal(400)
    u = rng.uniform(size=400)
    observed = np.array([np.mean(TRUE[0] + noise), np.mean(u < TRUE[1])])
    se = np.array([1 / 20, np.sqrt(0.3 * 0.7 / 400)])

    def evaluate(z: np.ndarray):
        x = prior.to_natural(z)
        s = np.column_stack([x[:, 0] + noise.mean(), np.mean(u[None, :] < x[:, 1:2], axis=1)])
        return np.sum(((s - observed) / se) ** 2, axis=1), s

    return evaluate


def test_smc_recovers_known_parameters():
    prior = _toy_prior()
    state = run_abc_smc(prior, _toy_evaluate(prior), SMCConfig(n_particles=100, n_proposals=300,
                                                               n_generations=10), seed=4)
    x = prior.to_natural(state.particles)
    mean = state.weights @ x
    np.testing.assert_allclose(mean, TRUE, rtol=0.1)
    assert state.epsilons[-1] < state.epsilons[0] / 20
    # posterior SD near the sampling SE of the summaries (0.05 for a, about 0.023 for b)
    sd = np.sqrt(state.weights @ (x - mean) ** 2)
    assert sd[0] < 0.12 and sd[1] < 0.06
    assert state.distinct[-1] > 50  # replenishment keeps the population diverse


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    prior = _toy_prior()
    cfg = SMCConfig(n_particles=30, n_proposals=60, n_generations=4)
    full = run_abc_smc(prior, _toy_evaluate(prior), cfg, seed=9)
    ck = tmp_path / "ck.npz"
    part = run_abc_smc(prior, _toy_evaluate(prior), cfg, seed=9, checkpoint=ck, stop_after=2)
    assert part.generation == 1 and ck.exists()
    resumed = run_abc_smc(prior, _toy_evaluate(prior), cfg, seed=9, checkpoint=ck, resume=True)
    assert resumed.generation == full.generation == 3
    np.testing.assert_array_equal(resumed.particles, full.particles)
    np.testing.assert_array_equal(resumed.weights, full.weights)
    np.testing.assert_array_equal(resumed.all_z, full.all_z)
    assert resumed.epsilons == full.epsilons


def test_resume_refuses_a_checkpoint_of_another_configuration(tmp_path):
    from dermsim.errors import DataValidationError

    prior = _toy_prior()
    ck = tmp_path / "ck.npz"
    run_abc_smc(prior, _toy_evaluate(prior), SMCConfig(n_particles=10, n_proposals=20, n_generations=2),
                seed=1, checkpoint=ck, stop_after=1)
    with pytest.raises(DataValidationError, match="config"):
        run_abc_smc(prior, _toy_evaluate(prior), SMCConfig(n_particles=10, n_proposals=30, n_generations=2),
                    seed=1, checkpoint=ck, resume=True)


def test_kernel_logpdf_matches_scipy_mixture():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 2))
    a = rng.normal(size=(3, 2, 2))
    covs = a @ a.transpose(0, 2, 1) + 0.1 * np.eye(2)
    w = np.array([0.2, 0.5, 0.3])
    z = rng.normal(size=(5, 2))
    expected = np.log(sum(w[i] * multivariate_normal(centres[i], covs[i]).pdf(z) for i in range(3)))
    np.testing.assert_allclose(compute_kernel_logpdf(z, centres, w, covs), expected, rtol=1e-10)
