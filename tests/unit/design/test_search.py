"""Sample size by simulation on a binomial design against the analytic answer."""

from __future__ import annotations

import numpy as np

from dermsim.design import (
    BinomialDesign,
    Hypothesis,
    compute_power_two_proportions,
    compute_sample_size_two_proportions,
    estimate_sample_size,
    fit_power_curve,
)


def test_fit_recovers_an_exact_probit_curve() -> None:
    n = np.array([100.0, 200, 400, 800])
    p = np.array([compute_power_two_proportions(0.45, 0.3, int(k / 2), int(k / 2)) for k in n])
    r = np.full(4, 10**7)
    fit = fit_power_curve(n, np.round(p * r), r)
    np.testing.assert_allclose(fit.power(n), p, atol=0.01)


def test_sample_size_by_simulation_brackets_the_analytic_n() -> None:
    base = BinomialDesign(
        id="ss",
        n_total=100,
        arms=["t", "c"],
        ratio=[1, 1],
        rates={"iga_ts": [0.45, 0.3]},
        hypotheses=[Hypothesis(endpoint="iga_ts", treatment="t", control="c")],
    )
    res = estimate_sample_size(
        None, base, 0.8, [200, 300, 400, 500], 4000, 1, replicate_block=500, chunk_size=2000
    )
    # analytic N for 80% power of the one-direction success (two-sided alpha 0.05)
    analytic = compute_sample_size_two_proportions(0.45, 0.3, power=0.8)
    lo, hi = res.n_interval
    assert lo - 4 <= analytic <= hi + 4
    assert abs(res.n_required - analytic) <= 0.06 * analytic
    assert res.n_required % 2 == 0
    assert res.grid["power"].is_monotonic_increasing
