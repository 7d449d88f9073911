"""Arm summaries: binomial sampling at the real N with common uniforms; trial effects on the logit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from dermsim.calibration.priors import Prior, trial_parameters
from dermsim.calibration.summaries import (
    STAT_NAMES,
    binomial_uniforms,
    compute_distance,
    compute_summaries,
    compute_trial_shift,
    shift_logit,
    stat_index,
)
from dermsim.calibration.targets import load_targets


def _stats(p_iga: float) -> np.ndarray:
    row = np.full(len(STAT_NAMES), 0.3)
    for s in ("0", "0.75", "1.5"):
        row[STAT_NAMES.index(f"iga_ts@{s}")] = p_iga
    row[STAT_NAMES.index("mean_css_nM@0.75")] = 23.8
    row[STAT_NAMES.index("mean_css_nM@1.5")] = 35.7
    row[STAT_NAMES.index("mean_F_pct@1.5")] = 6.22
    return row


def test_binomial_summaries_use_common_uniforms_and_real_arm_sizes():
    ts = load_targets()
    u = binomial_uniforms(ts, seed=3)
    assert np.array_equal(u, binomial_uniforms(ts, seed=3))
    s = compute_summaries(np.vstack([_stats(p) for p in (0.2, 0.4, 0.6)]), ts, u)
    k = ts.names.index("true-ad1/rux150/IGA-TS/w8")
    n = ts.targets[k].n
    assert n == 253
    assert s[1, k] == binom.ppf(u[0, k], n, 0.4) / n
    assert s[0, k] <= s[1, k] <= s[2, k]  # CRN: a higher rate never gives fewer responders
    pk = ts.names.index("pk/mean_css_nM/1.5")
    assert s[0, pk] == 35.7
    assert compute_distance(s, ts).shape == (3,)


def test_nan_stats_give_an_infinite_distance():
    ts = load_targets()
    stats = _stats(0.4)[None, :].copy()
    stats[0, stat_index(ts)[0]] = np.nan
    assert compute_distance(compute_summaries(stats, ts, binomial_uniforms(ts, 1)), ts)[0] == np.inf


def test_trial_shift_applies_trial_sd_times_xi_to_binary_targets_of_that_trial():
    ts = load_targets()
    prior = Prior(parameters=trial_parameters())   # first version: trial effects as parameters
    x = prior.to_natural(prior.mean[None, :])
    x[0, prior.names.index("trial_sd")] = 0.5
    x[0, prior.names.index("xi_true_ad1")] = 2.0
    x[0, prior.names.index("xi_true_ad2")] = -1.0
    shift = compute_trial_shift(x, prior, ts)[0]
    for k, t in enumerate(ts.targets):
        expected = 0.0 if t.kind == "pk" else (1.0 if t.trial == "true-ad1" else -0.5)
        assert shift[k] == pytest.approx(expected)
    np.testing.assert_allclose(shift_logit(np.array([0.2, 0.5]), 0.0), [0.2, 0.5], rtol=1e-12)
    assert shift_logit(np.array([0.5]), np.log(3.0))[0] == pytest.approx(0.75)
