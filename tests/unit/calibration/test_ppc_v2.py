"""Posterior predictive check of a v2 posterior: every target gets a 90 % interval, shown by validate."""

from __future__ import annotations

import numpy as np

from dermsim.calibration.diagnostics import compute_diagnostics, compute_ppc_v2
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.preregister_v2 import run_validation_v2
from dermsim.calibration.priors import CalibratedParameter, Prior
from dermsim.calibration.targets import Target, TargetSet


def _posterior(expected_shift: float = 0.0) -> Posterior:
    prior = Prior(parameters=tuple(
        CalibratedParameter(f"x{i}", "", "trial", "identity", 0.0, 1.0, "-", "toy") for i in range(2)))
    targets = TargetSet(targets=(
        Target(name="t1/rux/IGA-TS/w8", kind="binary", evidence_key="k", value=0.5, n=250, se=0.032,
               weight=1.0, status="C", source="s", trial="t1"),
        Target(name="pk/css_mean", kind="pk", evidence_key="k", value=30.0, n=200, se=3.0, weight=1.0,
               status="C", source="s", trial="t1")), version="toy", sha256="0", path="", trial_sd_logit=0.3)
    rng = np.random.default_rng(0)
    n = 400
    draws = rng.normal(size=(n, 2)) * 0.1
    expected = np.column_stack([0.5 + expected_shift + 0.01 * rng.normal(size=n), 30 + rng.normal(size=n)])
    return Posterior(version="toy-v2", names=("x0", "x1"), draws=draws, weights=np.full(n, 1 / n),
                     prior=prior,
                     targets_sha256="0", targets_version="toy", code_version="0", seed=1, command="test",
                     meta={"method": "laplace-is", "targets": [t.to_dict() for t in targets.targets],
                           "trial_sd_logit": 0.3, "mc_var": [1e-4, 0.5], "expected": expected.tolist(),
                           "laplace": {"cov_unconstrained": (np.eye(2) * 0.01).tolist()},
                           "importance_sampling": {"draws": n, "ess": 350.0, "target_ess": 1000,
                                                   "converged": False, "pareto_k": 0.2, "max_weight": 0.01},
                           "map": {"converged": True, "message": "ok", "iterations": 5, "cost": 1.0,
                                   "gradient_inf_norm": 1e-3}})


def test_ppc_interval_covers_a_fitted_target_and_flags_a_miss():
    rows = compute_ppc_v2(_posterior())
    assert [r["inside"] for r in rows] == [True, True]
    lo, hi = rows[0]["pi90_low"], rows[0]["pi90_high"]
    # binomial at n = 250 plus the between-trial effect: wider than binomial alone (+-0.052)
    assert hi - lo > 2 * 1.645 * np.sqrt(0.25 / 250)
    miss = compute_ppc_v2(_posterior(expected_shift=0.25))
    assert not miss[0]["inside"]


def test_validation_summary_lists_every_target_and_the_convergence_state(tmp_path):
    post = _posterior()
    diag = compute_diagnostics(post)
    assert diag["ppc_inside"] == "2/2" and diag["distinct_draws"] == 400
    text = run_validation_v2(post, tmp_path, tmp_path / "absent.csv")
    assert "2/2 targets inside" in text and "ESS 350.0 (target 1000: NOT reached)" in text
    assert "| t1/rux/IGA-TS/w8 |" in text and "| pk/css_mean |" in text
    assert (tmp_path / "validation.csv").read_text().count("\nppc,") == 2
