"""Summaries by hand: rates, Monte-Carlo SEs, bias and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dermsim.design import (
    DesignSpec,
    compute_mcse_proportion,
    summarise_designs,
    summarise_operating_characteristics,
)
from dermsim.errors import InvalidInputError


def _rows() -> pd.DataFrame:
    # 4 replicates x 2 hypotheses of design "d"; truth 0.1 for both
    est = np.array([0.05, 0.15, 0.2, 0.0, 0.1, 0.3, -0.1, 0.1])
    return pd.DataFrame(
        {
            "design_id": "d",
            "replicate": np.repeat(np.arange(4), 2),
            "hypothesis": np.tile([0, 1], 4),
            "endpoint": np.tile(["iga_ts", "easi75"], 4),
            "treatment": "t",
            "control": "c",
            "estimate": est,
            "se": 0.05,
            "ci_lower": est - 0.1,
            "ci_upper": est + 0.1,
            "p_value": 0.01,
            "reject": [True, True, True, False, False, True, True, True],
            "success": [True, True, True, False, False, False, True, True],
            "truth": 0.1,
        }
    )


def test_rates_mcse_bias_coverage() -> None:
    s = summarise_operating_characteristics(_rows()).set_index("hypothesis")
    assert s.loc[0, "rejection_rate"] == 0.75 and s.loc[1, "rejection_rate"] == 0.5
    assert s.loc[1, "marginal_rejection_rate"] == 0.75
    np.testing.assert_allclose(s.loc[0, "rejection_rate_mcse"], np.sqrt(0.75 * 0.25 / 4), rtol=1e-12)
    h0 = np.array([0.05, 0.2, 0.1, -0.1])
    np.testing.assert_allclose(s.loc[0, "bias"], h0.mean() - 0.1, atol=1e-12)
    np.testing.assert_allclose(s.loc[0, "empirical_se"], h0.std(ddof=1), rtol=1e-12)
    # |estimate - truth| <= 0.1 covers: 0.05, 0.2 (edge), 0.1 yes; -0.1 no
    assert s.loc[0, "coverage"] == 0.75


def test_designs_and_null_labels() -> None:
    rows = _rows()
    d = summarise_designs(rows, [DesignSpec(id="d", n_total=10, null=True)])
    assert d.loc[0, "probability_of_success"] == 0.75 and d.loc[0, "all_hypotheses_success"] == 0.5
    assert bool(d.loc[0, "null"]) and d.loc[0, "n_total"] == 10
    s = summarise_operating_characteristics(rows, [DesignSpec(id="d", n_total=10, null=True)])
    assert set(s["characteristic"]) == {"type I error"}


def test_unknown_truth_leaves_bias_blank() -> None:
    s = summarise_operating_characteristics(_rows().assign(truth=np.nan))
    assert s["bias"].isna().all() and s["coverage"].isna().all()


def test_errors() -> None:
    with pytest.raises(InvalidInputError, match="missing"):
        summarise_operating_characteristics(pd.DataFrame({"design_id": []}))
    np.testing.assert_allclose(compute_mcse_proportion(0.5, 100), 0.05)
