"""Estimand sensitivity for a binary endpoint: delta-adjusted multiple imputation and tipping point.

The primary analysis of a responder endpoint counts a subject without an outcome as a
non-responder (composite strategy). Its sensitivity analysis under a hypothetical strategy asks
how far the missing outcomes of the active arm(s) must depart from missing-at-random before the
conclusion changes (Ratitch et al. 2013, Pharm Stat 12:337; the EMA/FDA "tipping point"):

* **Imputation model (MAR).** Within each arm x stratum cell, the response probability gets the
  Jeffreys posterior Beta(k + 1/2, n - k + 1/2) of the observed outcomes (a cell without any
  observed outcome uses its arm's over all strata); imputation ``j`` draws
  one probability per cell and one Bernoulli outcome per missing subject (the binary analogue of
  ``mice``'s Bayesian imputation, exact for a saturated categorical model, with no separation
  problem in small cells).
* **Delta adjustment (MNAR).** For the shifted arms (by default every arm except the reference),
  the imputed outcome's log-odds is the cell's plus ``delta``: ``delta < 0`` makes missing active
  subjects less likely to respond than observed ones in their cell. ``delta = 0`` is MAR.
* **Analysis and pooling.** Every completed data set is analysed as the primary analysis
  (Mantel-Haenszel common risk difference over the strata with the Sato variance; one stratum
  gives the unstratified difference); the ``m`` results are combined by Rubin's rules
  (:func:`dermsim.analysis.estimands.pool_rubin`, large-sample complete-data df).
* **Tipping point.** Walking from the delta nearest 0 in the adverse direction (towards
  negative delta when the MAR result is significant, positive when it is not), the first delta at
  which the significance at ``alpha`` flips, linearly interpolated on the pooled p-value.

Vectorized: one array of shape (deltas, imputations, missing subjects) is drawn with common
random numbers (the same uniforms and cell probabilities for every delta, so the curve over
delta is smooth and monotone in expectation), and the risk differences of all deltas and
imputations are computed at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy import special

from dermsim._rng import SeedLike, as_generator
from dermsim._validate import check_int, check_range
from dermsim.analysis.estimands import pool_rubin
from dermsim.analysis.results import StatPairs, _Result, ard_pairs
from dermsim.analysis.stratified import compute_common_risk_difference
from dermsim.errors import InvalidInputError, NotEstimableError

__all__ = ["DeltaResult", "TippingPointResult", "estimate_tipping_point"]

TIPPING = "tipping point"


def delta_label(delta: float) -> str:
    """The ARD ``variable_level`` of one delta: ``"delta=-1.5"``."""
    return f"delta={float(delta):g}"


@dataclass(frozen=True)
class DeltaResult(_Result):
    """Pooled risk difference (``level`` minus ``reference``) at one delta."""

    delta: float
    level: str
    reference: str
    estimate: float
    se: float
    df: float
    statistic: float
    p_value: float
    ci_lower: float
    ci_upper: float

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p_value")


@dataclass(frozen=True)
class TippingPointResult(_Result):
    """Delta-adjusted MI over a grid of deltas, per compared arm, and the tipping points.

    ``tipping`` maps each compared arm to the delta where significance at ``alpha`` flips (NaN
    when it does not flip within the grid); ``n`` and ``n_missing`` count subjects per arm.
    """

    levels: tuple[str, ...]
    reference: str
    deltas: tuple[float, ...]
    shifted: tuple[str, ...]
    m: int
    alpha: float
    n: dict[str, int]
    n_missing: dict[str, int]
    results: tuple[DeltaResult, ...]
    tipping: dict[str, float]
    method: str = "tipping_point"

    def at(self, level: str, delta: float) -> DeltaResult:
        for r in self.results:
            if r.level == level and np.isclose(r.delta, delta):
                return r
        raise InvalidInputError(f"(level, delta) must be among the results; got ({level!r}, {delta!r}).")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        d = dict(data)
        for k in ("levels", "deltas", "shifted"):
            d[k] = tuple(d[k])
        d["results"] = tuple(DeltaResult(**r) for r in d["results"])
        return cls(**d)

    def to_ard_rows(self) -> StatPairs:
        return [("n", float(sum(self.n.values()))), ("count", float(sum(self.n_missing.values())))]

    def ard_blocks(self) -> list[tuple[dict[str, str], StatPairs]]:
        """Per arm: n and the number imputed (``variable_level`` "missing"); per compared arm and
        delta: the pooled difference (``variable_level`` "delta=<d>"); per compared arm: the
        tipping delta (``variable_level`` "tipping point", stat ``estimate``)."""
        out: list[tuple[dict[str, str], StatPairs]] = [
            ({"variable_level": "missing", "group_level": a, "method": self.method},
             [("n", float(self.n[a])), ("count", float(self.n_missing[a]))]) for a in self.levels]
        out += [({"variable_level": delta_label(r.delta), "group_level": r.level, "comparator": r.reference,
                  "method": self.method}, r.to_ard_rows()) for r in self.results]
        out += [({"variable_level": TIPPING, "group_level": a, "comparator": self.reference,
                  "method": self.method}, [("estimate", v)]) for a, v in self.tipping.items()]
        return out


def _tipping(deltas: np.ndarray, p: np.ndarray, alpha: float) -> float:
    """Delta where p crosses alpha, walking away from the delta nearest 0 in the adverse direction."""
    i0 = int(np.argmin(np.abs(deltas)))
    sig0 = p[i0] < alpha
    step = -1 if sig0 else 1
    i = i0
    while 0 <= i + step < deltas.size:
        j = i + step
        if (p[j] < alpha) != sig0:
            # linear interpolation of p between the two grid points
            t = (alpha - p[i]) / (p[j] - p[i]) if p[j] != p[i] else 0.0
            return float(deltas[i] + t * (deltas[j] - deltas[i]))
        i = j
    return float("nan")


def estimate_tipping_point(y: np.ndarray | Sequence[float], group: np.ndarray | Sequence[str], *,
                           reference: str, deltas: Sequence[float], strata: np.ndarray | None = None,
                           shifted: Sequence[str] | None = None, m: int = 50, seed: SeedLike = 0,
                           alpha: float = 0.05, response: object = 1) -> TippingPointResult:
    """Delta-adjusted MI of a binary outcome and its tipping point (see the module docstring).

    ``y`` holds one outcome per subject of the population (``response`` = responder, any other
    value = non-responder, NaN/None = missing); ``group`` the arm; ``strata`` the stratum (or
    None). ``shifted`` are the arms whose missing outcomes get the delta (default: all but the
    reference). Returns pooled risk differences of every arm vs ``reference`` at every delta.
    """
    m = check_int("m", m, minimum=2)
    check_range("alpha", alpha, 0, 1, low_open=True, high_open=True)
    grid = np.array(sorted({float(d) for d in deltas}))
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise InvalidInputError(f"deltas must be a non-empty list of finite numbers; got {list(deltas)!r}.")
    yv = pd.Series(list(y) if not isinstance(y, pd.Series) else y, dtype=object)
    g = np.asarray(group).astype(str)
    n = len(yv)
    s = np.zeros(n, dtype=int) if strata is None else pd.factorize(np.asarray(strata).astype(str))[0]
    if g.shape != (n,) or s.shape != (n,):
        raise InvalidInputError(f"group and strata must have one value per subject ({n}); got {g.shape}, "
                                f"{s.shape}.")
    missing = yv.isna().to_numpy()
    hit = (yv == response).to_numpy() & ~missing
    levels = tuple(dict.fromkeys([str(reference), *(str(a) for a in sorted(set(g)))]))
    if reference not in set(g):
        raise NotEstimableError(f"reference arm {reference!r} has no subjects; arms are "
                                  f"{', '.join(sorted(set(g)))}.")
    shift = tuple(a for a in levels if a != reference) if shifted is None else tuple(str(a) for a in shifted)
    unknown = [a for a in shift if a not in levels]
    if unknown:
        raise InvalidInputError(f"shifted arms must be among {', '.join(levels)}; got {unknown[0]!r}.")
    n_strata = int(s.max()) + 1
    arm_idx = pd.Index(levels).get_indexer(g)
    cell = arm_idx * n_strata + s                                          # arm x stratum cell
    n_cells = len(levels) * n_strata
    obs_n = np.bincount(cell[~missing], minlength=n_cells).astype(float)
    obs_k = np.bincount(cell[hit], minlength=n_cells).astype(float)
    # a cell without any observed outcome borrows its arm's outcomes over all strata
    arm_n = obs_n.reshape(len(levels), n_strata).sum(axis=1)
    arm_k = obs_k.reshape(len(levels), n_strata).sum(axis=1)
    empty = obs_n == 0
    cell_arm = np.arange(n_cells) // n_strata
    obs_n = np.where(empty, arm_n[cell_arm], obs_n)
    obs_k = np.where(empty, arm_k[cell_arm], obs_k)
    mis_cells = np.unique(cell[missing])
    if np.any(obs_n[mis_cells] == 0):
        c = int(mis_cells[obs_n[mis_cells] == 0][0])
        raise NotEstimableError(f"arm {levels[c // n_strata]!r} has missing outcomes but no observed one "
                                "to impute them from.")

    rng = as_generator(seed)
    p_cell = rng.beta(obs_k + 0.5, obs_n - obs_k + 0.5, size=(m, n_cells))     # (m, cells)
    mis = np.flatnonzero(missing)
    u = rng.random((m, mis.size))
    logit = special.logit(p_cell[:, cell[mis]])                                 # (m, n_mis)
    is_shifted = np.isin(g[mis], shift)
    lin = logit[None, :, :] + grid[:, None, None] * is_shifted[None, None, :]   # (D, m, n_mis)
    imputed = u[None] < special.expit(lin)                                     # (D, m, n_mis)

    # responders per (delta, imputation, arm, stratum): observed + imputed
    onehot = np.zeros((mis.size, n_cells))
    onehot[np.arange(mis.size), cell[mis]] = 1.0
    seen_k = np.bincount(cell[hit], minlength=n_cells).astype(float)
    resp = seen_k[None, None, :] + imputed.astype(float) @ onehot              # (D, m, cells)
    total = np.bincount(cell, minlength=n_cells).astype(float)
    resp = resp.reshape(grid.size, m, len(levels), n_strata)
    tot = total.reshape(len(levels), n_strata)
    results: list[DeltaResult] = []
    tipping: dict[str, float] = {}
    ri = 0
    for ai, a in enumerate(levels):
        if a == reference:
            continue
        keep = (tot[ai] > 0) & (tot[ri] > 0)
        shape = (*resp.shape[:2], int(keep.sum()))
        rd = compute_common_risk_difference(resp[:, :, ai, keep], np.broadcast_to(tot[ai, keep], shape),
                                            resp[:, :, ri, keep], np.broadcast_to(tot[ri, keep], shape),
                                            method="mh_sato", conf_level=1 - alpha)
        est, var = rd["estimate"], rd["se"] ** 2                                # (D, m)
        pooled = pool_rubin(est.T, var.T, alpha=alpha)                          # k = deltas
        for k, d in enumerate(grid):
            results.append(DeltaResult(float(d), a, reference, float(pooled.estimate[k]), float(pooled.se[k]),
                                       float(pooled.df[k]), float(pooled.statistic[k]),
                                       float(pooled.p_value[k]), float(pooled.ci_lower[k]),
                                       float(pooled.ci_upper[k])))
        tipping[a] = _tipping(grid, pooled.p_value, alpha)
    n_arm = {a: int((g == a).sum()) for a in levels}
    n_mis = {a: int((missing & (g == a)).sum()) for a in levels}
    return TippingPointResult(levels, reference, tuple(float(d) for d in grid), shift, m, float(alpha), n_arm,
                              n_mis, tuple(results), tipping)
