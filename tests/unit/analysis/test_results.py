"""Result objects: frozen, ARD vocabulary, dict round trip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dermsim.analysis import estimate_common_risk_difference, estimate_proportion, test_cmh
from dermsim.analysis.ard import STAT_NAMES
from dermsim.analysis.results import CMHResult, ProportionResult


def test_results_are_frozen_and_round_trip() -> None:
    p = estimate_proportion(3, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.estimate = 0.5  # type: ignore[misc]
    assert ProportionResult.from_dict(p.to_dict()) == p
    c = test_cmh(np.array([[[5, 3], [2, 6]], [[4, 4], [1, 7]]]))
    assert CMHResult.from_dict(c.to_dict()) == c
    assert p.replace(method="x").method == "x"


def test_ard_rows_use_the_vocabulary() -> None:
    c = test_cmh(np.array([[[5, 3], [2, 6]], [[4, 4], [1, 7]]]))
    results = [estimate_proportion(3, 10),
               estimate_common_risk_difference([3, 4], [10, 9], [1, 2], [8, 9]), c]
    for r in results:
        for name, value in r.to_ard_rows():
            assert name in STAT_NAMES
            assert isinstance(value, float)
    assert set(c.to_ard_rows_by_test()) == {"correlation", "row_mean_scores", "general_association"}
