"""Properties of the record validators, and dict round trips of every family."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from dermsim.evidence import AERow, EndpointResult, load_evidence

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(finite)
def test_endpoint_value_pct_accepted_iff_within_0_100(value):
    def make() -> EndpointResult:
        return EndpointResult(endpoint="IGA-TS", visit="Week 8", arm="rux150", value_pct=value,
                              source="s", status="C")

    if 0 <= value <= 100:
        assert make().value_pct == value
    else:
        with pytest.raises(ValidationError, match="value_pct must be a percentage within"):
            make()


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=0, max_value=1000))
def test_responders_never_exceed_arm(n_arm, n_resp):
    kwargs = {"endpoint": "EASI-75", "visit": "Week 8", "arm": "vehicle", "value_pct": 50.0,
              "n_responders": n_resp, "n_arm": n_arm, "source": "s", "status": "C"}
    if n_resp <= n_arm:
        assert EndpointResult(**kwargs).n_responders == n_resp
    else:
        with pytest.raises(ValidationError, match="must not exceed n_arm"):
            EndpointResult(**kwargs)


@given(st.integers(min_value=1, max_value=600), st.integers(min_value=0, max_value=600))
def test_ae_pct_must_match_count_within_a_point(denominator, n):
    pct_exact = 100.0 * min(n, denominator) / denominator
    row = AERow(period="VC", term="Pyrexia", arm="rux150", n=min(n, denominator), denominator=denominator,
                pct=round(pct_exact), source="s", status="C")
    assert abs(row.pct - pct_exact) <= 0.5
    if pct_exact <= 98:
        with pytest.raises(ValidationError, match="does not match n/denominator"):
            AERow(period="VC", term="Pyrexia", arm="rux150", n=min(n, denominator), denominator=denominator,
                  pct=pct_exact + 1.5, source="s", status="C")


def test_every_family_round_trips_through_dict():
    for name, model in load_evidence().families().items():
        again = type(model).from_dict(model.to_dict())
        assert again == model, name
