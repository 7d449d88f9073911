"""The population's Beta quantile (model.population.beta_quantile): as exact as scipy's betaincinv,
point by point whatever the call, the tails handed to betaincinv."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import special

from dermsim.model.population.beta_quantile import U_MIN, beta_quantile

# the built-in true-ad3 laws (age, affected %BSA, baseline itch), then laws with steep tails or a
# small median (where forming 1 - y from the upper half once lost 140 ulp)
LAWS = [(0.9686980410051574, 0.9686980410051571), (0.6368010167029772, 0.8066146211571044),
        (1.4422222222222223, 1.8355555555555554), (0.2, 5.0), (50.0, 50.0)]


def _exact(a: float, b: float, u: float) -> mpmath.mpf:
    """The quantile of the double u, by Newton in 40 digits from betaincinv's answer."""
    with mpmath.workdps(40):
        big_a, big_b, big_u = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(u)
        x = mpmath.mpf(float(special.betaincinv(a, b, u)))
        for _ in range(6):
            pdf = x ** (big_a - 1) * (1 - x) ** (big_b - 1) / mpmath.beta(big_a, big_b)
            x -= (mpmath.betainc(big_a, big_b, 0, x, regularized=True) - big_u) / pdf
        return x


@pytest.mark.parametrize(("a", "b"), LAWS)
def test_as_close_to_the_exact_quantile_as_betaincinv(a: float, b: float) -> None:
    rng = np.random.default_rng(1)
    u = np.concatenate([rng.random(50), 10 ** rng.uniform(-11, -1, 10), 1 - 10 ** rng.uniform(-11, -1, 10)])
    ours, boost = beta_quantile(a, b, u), special.betaincinv(a, b, u)
    exact = [_exact(a, b, float(v)) for v in u]

    def ulps(x: np.ndarray) -> np.ndarray:
        return np.array([float(abs(mpmath.mpf(float(xi)) - e)) / np.spacing(float(e))
                         for xi, e in zip(x, exact, strict=True)])

    e_ours, e_boost = ulps(ours), ulps(boost)
    assert e_ours.mean() <= 1.25 * e_boost.mean() + 0.5
    assert e_ours.max() <= 1.5 * e_boost.max() + 3.0


def test_point_by_point_and_the_tails_from_betaincinv() -> None:
    a, b = LAWS[1]
    u = np.random.default_rng(2).random(5000)
    whole = beta_quantile(a, b, u)
    # a point's quantile does not depend on the other points of the call (chunking invariance)
    parts = [beta_quantile(a, b, part) for part in np.array_split(u, 7)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    np.testing.assert_allclose(whole, special.betaincinv(a, b, u), rtol=1e-13, atol=0.0)
    tails = np.array([0.0, U_MIN / 2, 1.0 - U_MIN / 2, 1.0])
    np.testing.assert_array_equal(beta_quantile(a, b, tails), special.betaincinv(a, b, tails))
