"""Sample size by simulation and design sweeps.

:func:`estimate_sample_size` simulates power on a grid of total sample sizes (common seed), then
fits the curve ``power(n) = Phi(a + b sqrt(n))`` by binomial maximum likelihood (probit GLM,
statsmodels) over the simulated successes: the normal approximation of a test of two proportions
has exactly this shape in sqrt(n), so a two-parameter fit smooths the Monte-Carlo error of all grid
points together. The required n solves the fitted curve at the target; its Monte-Carlo interval
comes from the fitted coefficients' covariance (2,000 normal draws). The model-free answer, the
smallest grid n whose simulated power's lower 95% Monte-Carlo bound reaches the target, is given
beside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from dermsim._rng import SeedLike
from dermsim._validate import check_range
from dermsim.design.runner import OCRun, simulate_operating_characteristics
from dermsim.design.spec import BinomialDesign, DesignGrid, DesignSpec
from dermsim.design.summaries import summarise_designs
from dermsim.errors import InvalidInputError

__all__ = ["SampleSizeResult", "estimate_sample_size", "fit_power_curve", "make_power_designs", "run_sweep"]


def make_power_designs(base: DesignSpec | BinomialDesign, n_values: Sequence[int]) -> list[Any]:
    """Copies of ``base`` with ``n_total`` set to each value (ids ``<base id>_n<N>``)."""
    if not n_values:
        raise InvalidInputError("n_values must hold at least one sample size; got none.")
    return [base.replace(id=f"{base.id}_n{int(n)}", n_total=int(n)) for n in n_values]


@dataclasses.dataclass(frozen=True)
class PowerCurveFit:
    """``power(n) = Phi(a + b sqrt(n))`` fitted to simulated successes."""

    a: float
    b: float
    cov: np.ndarray

    def power(self, n: np.ndarray | float) -> np.ndarray:
        return special.ndtr(self.a + self.b * np.sqrt(np.asarray(n, dtype=float)))

    def solve_n(self, target: float, a: float | None = None, b: float | None = None) -> float:
        a = self.a if a is None else a
        b = self.b if b is None else b
        if b <= 0:
            return float("inf")
        root = (special.ndtri(target) - a) / b
        return float(root**2) if root > 0 else 0.0


def fit_power_curve(n: np.ndarray, successes: np.ndarray, replicates: np.ndarray) -> PowerCurveFit:
    """Probit binomial GLM of successes on sqrt(n) (statsmodels)."""
    import statsmodels.api as sm

    n = np.asarray(n, float)
    y = np.column_stack([successes, np.asarray(replicates) - np.asarray(successes)]).astype(float)
    if n.size < 2:
        raise InvalidInputError(f"n must hold at least 2 grid sizes to fit a power curve; got {n.size}.")
    x = sm.add_constant(np.sqrt(n))
    fit = sm.GLM(y, x, family=sm.families.Binomial(link=sm.families.links.Probit())).fit()
    return PowerCurveFit(float(fit.params[0]), float(fit.params[1]), np.asarray(fit.cov_params()))


@dataclasses.dataclass(frozen=True)
class SampleSizeResult:
    """Required total N for ``target_power`` with its Monte-Carlo uncertainty."""

    target_power: float
    n_required: int  # from the fitted curve, rounded up to a whole ratio set
    n_interval: tuple[float, float]  # 95% Monte-Carlo interval of the fitted solution
    n_grid_conservative: int | None  # smallest grid n with lower 95% MC bound >= target
    grid: pd.DataFrame  # n_total, power, mcse, fitted
    fit: PowerCurveFit
    run: OCRun

    def to_dict(self) -> dict[str, Any]:
        return {
            "target_power": self.target_power,
            "n_required": self.n_required,
            "n_interval": list(self.n_interval),
            "n_grid_conservative": self.n_grid_conservative,
            "fit": {"a": self.fit.a, "b": self.fit.b},
            "grid": self.grid.to_dict(orient="list"),
        }


def _ratio_sum(scenario: Any, base: DesignSpec | BinomialDesign) -> int:
    if isinstance(base, BinomialDesign):
        return sum(base.ratio)
    from dermsim.design.resolve import resolve_design

    return sum(resolve_design(scenario, base).ratio)


def estimate_sample_size(
    scenario: Any,
    base: DesignSpec | BinomialDesign,
    target_power: float,
    n_values: Sequence[int],
    n_replicates: int,
    seed: SeedLike,
    **run_kwargs: Any,
) -> SampleSizeResult:
    """Simulate the grid ``n_values`` and solve for ``target_power`` (module docstring); power is
    the probability of success (first hypothesis of the fixed sequence rejected)."""
    check_range("target_power", target_power, 0.0, 1.0, low_open=True, high_open=True)
    designs = make_power_designs(base, n_values)
    run = simulate_operating_characteristics(scenario, designs, n_replicates, seed, **run_kwargs)
    s = summarise_designs(run.results, designs)
    r = s["n_replicates"].to_numpy(float)
    succ = np.round(s["probability_of_success"].to_numpy(float) * r)
    fit = fit_power_curve(s["n_total"].to_numpy(float), succ, r)
    n_star = fit.solve_n(target_power)
    draws = np.random.default_rng(0).multivariate_normal([fit.a, fit.b], fit.cov, size=2000)
    sols = np.array([fit.solve_n(target_power, a, b) for a, b in draws])
    # order statistics, not np.quantile: a draw with a flat curve (b <= 0) solves to +inf
    srt = np.sort(sols)
    lo, hi = float(srt[int(0.025 * srt.size)]), float(srt[int(np.ceil(0.975 * srt.size)) - 1])
    step = _ratio_sum(scenario, base)
    n_req = int(np.ceil(n_star / step) * step) if np.isfinite(n_star) else -1
    grid = pd.DataFrame(
        {
            "n_total": s["n_total"].astype(int),
            "power": s["probability_of_success"],
            "mcse": s["probability_of_success_mcse"],
            "fitted": fit.power(s["n_total"].to_numpy(float)),
        }
    )
    ok = grid[grid["power"] - 1.96 * grid["mcse"] >= target_power]
    conservative = int(ok["n_total"].min()) if len(ok) else None
    return SampleSizeResult(target_power, n_req, (lo, hi), conservative, grid, fit, run)


def run_sweep(grid: DesignGrid, n_replicates: int, seed: SeedLike, **run_kwargs: Any) -> OCRun:
    """Operating characteristics of every design of a TOML grid (ratio x strata x timepoint x n)."""
    return simulate_operating_characteristics(grid.scenario, grid.designs(), n_replicates, seed, **run_kwargs)
