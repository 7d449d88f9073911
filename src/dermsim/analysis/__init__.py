"""Analysis: estimands, statistics (``estimate_*``/``test_*`` -> frozen results), ARD assembly.

The binary and categorical statistics are re-exported here; the plan, estimand, ARD and method
modules are imported from their own modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dermsim._lazy import LazyExports

# The names are loaded on first use (PEP 562): importing every method here loaded statsmodels.api
# (for the marginal risk difference's logistic model) into every process that needs any of them,
# such as a design run that needs only the batched statistics (`import dermsim.design` 1.85 s ->
# 1.6 s by python -X importtime).
# The imports under TYPE_CHECKING name them, for type checkers and for dermsim._lazy.
if TYPE_CHECKING:
    from dermsim.analysis.batched import (
        BatchedEstimate,
        BatchedTest,
        compute_batched_common_odds_ratio,
        compute_batched_common_risk_difference,
        compute_batched_marginal_risk_difference,
        compute_batched_proportion,
        compute_batched_risk_difference,
        test_batched_cmh,
        test_batched_mantel_haenszel,
    )
    from dermsim.analysis.cmh import (
        SCORE_TYPES,
        compute_cmh_statistics,
        crosstab_strata,
        rank_scores,
        table_scores,
        test_cmh,
        test_cmh_frame,
    )
    from dermsim.analysis.contingency import test_chi_square, test_fisher_exact, test_trend
    from dermsim.analysis.logistic import estimate_marginal_risk_difference
    from dermsim.analysis.proportions import (
        PROPORTION_METHODS,
        RISK_DIFFERENCE_METHODS,
        compute_proportion_ci,
        compute_ratio_ci,
        compute_risk_difference_ci,
        estimate_odds_ratio,
        estimate_proportion,
        estimate_relative_risk,
        estimate_risk_difference,
    )
    from dermsim.analysis.results import (
        CMHResult,
        CommonRiskDifferenceResult,
        MarginalRiskDifferenceResult,
        ProportionResult,
        RatioResult,
        RiskDifferenceResult,
        TestResult,
    )
    from dermsim.analysis.stratified import (
        COMMON_RISK_DIFFERENCE_METHODS,
        compute_common_risk_difference,
        estimate_common_odds_ratio,
        estimate_common_relative_risk,
        estimate_common_risk_difference,
        estimate_exact_common_odds_ratio,
        test_breslow_day,
        test_exact_common_odds_ratio,
        test_mantel_haenszel,
    )


_LAZY = LazyExports(__file__, globals())
__getattr__ = _LAZY.getattr
__dir__ = _LAZY.dir


__all__ = [
    "COMMON_RISK_DIFFERENCE_METHODS",
    "PROPORTION_METHODS",
    "RISK_DIFFERENCE_METHODS",
    "SCORE_TYPES",
    "BatchedEstimate",
    "BatchedTest",
    "CMHResult",
    "CommonRiskDifferenceResult",
    "MarginalRiskDifferenceResult",
    "ProportionResult",
    "RatioResult",
    "RiskDifferenceResult",
    "TestResult",
    "compute_batched_common_odds_ratio",
    "compute_batched_common_risk_difference",
    "compute_batched_marginal_risk_difference",
    "compute_batched_proportion",
    "compute_batched_risk_difference",
    "compute_cmh_statistics",
    "compute_common_risk_difference",
    "compute_proportion_ci",
    "compute_ratio_ci",
    "compute_risk_difference_ci",
    "crosstab_strata",
    "estimate_common_odds_ratio",
    "estimate_common_relative_risk",
    "estimate_common_risk_difference",
    "estimate_exact_common_odds_ratio",
    "estimate_marginal_risk_difference",
    "estimate_odds_ratio",
    "estimate_proportion",
    "estimate_relative_risk",
    "estimate_risk_difference",
    "rank_scores",
    "table_scores",
    "test_batched_cmh",
    "test_batched_mantel_haenszel",
    "test_breslow_day",
    "test_chi_square",
    "test_cmh",
    "test_cmh_frame",
    "test_exact_common_odds_ratio",
    "test_fisher_exact",
    "test_mantel_haenszel",
    "test_trend",
]
