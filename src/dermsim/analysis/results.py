"""Frozen result objects of the binary and categorical statistics.

Every result holds full-precision numbers (rounding belongs to the formatting layer) and offers
``to_ard_rows()``: ``(stat_name, stat_value)`` pairs from the ARD vocabulary
(:data:`dermsim.analysis.ard.STAT_NAMES`), ready for :func:`dermsim.analysis.ard.make_rows`, and
``to_dict``/``from_dict`` for storage. :class:`_Result` is the base of every statistic's result class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

import numpy as np

__all__ = [
    "CMHResult",
    "CommonRiskDifferenceResult",
    "MarginalRiskDifferenceResult",
    "ProportionResult",
    "RatioResult",
    "RiskDifferenceResult",
    "TestResult",
]

StatPairs = list[tuple[str, float]]


def ard_pairs(result: Any, *names: str) -> StatPairs:
    """(stat_name, value) pairs for ARD rows, read from the result's attributes of those names."""
    return [(name, float(getattr(result, name))) for name in names]


class _Result:
    """The one base of every statistic's frozen result dataclass (this module's, ANCOVA, MMRM,
    descriptive, survival, sensitivity, batched, Rubin pooling): ``to_dict`` (nested results,
    tuples of results and arrays become plain values), ``from_dict`` (a result with nested results
    overrides it or names them in ``_NESTED``) and ``replace``."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        kwargs = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            v = data[f.name]
            if isinstance(v, dict) and f.name in _NESTED:
                v = _NESTED[f.name].from_dict(v)
            kwargs[f.name] = v
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)


def _plain(v: Any) -> Any:
    """A field value as plain data: nested results as dicts, arrays as lists, tuples kept."""
    if isinstance(v, _Result):
        return v.to_dict()
    if isinstance(v, tuple | list):
        return type(v)(_plain(x) for x in v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


@dataclass(frozen=True)
class TestResult(_Result):
    """A test statistic with its degrees of freedom and p-value (chi-square, Z, exact)."""

    __test__ = False  # not a pytest test class despite the name

    statistic: float
    df: float
    p_value: float
    method: str

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "statistic", "df", "p_value")


@dataclass(frozen=True)
class ProportionResult(_Result):
    """A single binomial proportion ``count / n`` with its confidence interval."""

    count: int
    n: int
    estimate: float
    ci_lower: float
    ci_upper: float
    method: str
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "count", "n", "estimate", "ci_lower", "ci_upper")


@dataclass(frozen=True)
class RiskDifferenceResult(_Result):
    """Risk difference ``risk1 - risk2`` (group 1 minus group 2) with SE and confidence interval.

    ``se`` is the unrestricted (Wald) asymptotic standard error, as SAS prints it as ASE, whatever
    the interval ``method``.
    """

    count1: int
    n1: int
    count2: int
    n2: int
    risk1: float
    risk2: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    method: str
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "ci_lower", "ci_upper")


@dataclass(frozen=True)
class CommonRiskDifferenceResult(_Result):
    """A stratified (common) risk difference: estimate, SE, CI and, where defined, a Z test of 0.

    ``se``, ``statistic`` and ``p_value`` are NaN for methods that do not define them
    (stratified Newcombe has no SE).
    """

    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    method: str
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "ci_lower", "ci_upper", "statistic", "p_value")


@dataclass(frozen=True)
class RatioResult(_Result):
    """An odds ratio or relative risk (common or single table) with its confidence interval."""

    estimate: float
    ci_lower: float
    ci_upper: float
    method: str
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "ci_lower", "ci_upper")


@dataclass(frozen=True)
class CMHResult(_Result):
    """The three Cochran-Mantel-Haenszel statistics of SAS PROC FREQ ``CMH`` for an R x C x K table.

    ``to_ard_rows()`` gives the general association test (the one that exists for every table);
    ``to_ard_rows_by_test()`` gives all three, keyed by the test name.
    """

    correlation: TestResult
    row_mean_scores: TestResult
    general_association: TestResult
    n_strata_used: int

    def to_ard_rows(self) -> StatPairs:
        return self.general_association.to_ard_rows()

    def to_ard_rows_by_test(self) -> dict[str, StatPairs]:
        return {"correlation": self.correlation.to_ard_rows(),
                "row_mean_scores": self.row_mean_scores.to_ard_rows(),
                "general_association": self.general_association.to_ard_rows()}


@dataclass(frozen=True)
class MarginalRiskDifferenceResult(_Result):
    """Covariate-adjusted marginal risk difference by g-computation (standardisation) with a
    delta-method SE (Ge et al. 2011), with the two standardised risks."""

    risk_treatment: float
    risk_control: float
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    n: int
    method: str
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "n", "estimate", "se", "ci_lower", "ci_upper", "statistic", "p_value")


_NESTED: dict[str, type[_Result]] = {
    "correlation": TestResult, "row_mean_scores": TestResult, "general_association": TestResult,
}
