"""The one rounding rule (half away from zero on the decimal a reader sees) and the formatters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermsim.errors import InvalidInputError
from dermsim.report.format import fmt_ci, fmt_n_pct, fmt_num, fmt_p, fmt_pct, round_half_away


def test_42_65_prints_42_7_where_python_round_gives_42_6():
    """REFERENCE.md §8: SAS ROUND(42.65, 0.1) = 42.7; Python round() gives 42.6 (binary value)."""
    assert round(42.65, 1) == 42.6  # the trap this module exists for
    assert round_half_away(42.65, 1) == 42.7
    assert fmt_num(42.65, 1) == "42.7"
    assert fmt_pct(42.65) == "42.7"


@pytest.mark.parametrize(("x", "digits", "expected"), [
    (0.5, 0, 1.0), (1.5, 0, 2.0), (2.5, 0, 3.0), (-0.5, 0, -1.0), (-2.5, 0, -3.0),
    (-42.65, 1, -42.7), (1.005, 2, 1.01), (2.675, 2, 2.68), (0.125, 2, 0.13), (-0.125, 2, -0.13),
    (1234.5, -1, 1230.0), (1235.0, -1, 1240.0), (0.44999, 1, 0.4), (7.0, 3, 7.0),
])
def test_round_half_away_cases(x, digits, expected):
    assert round_half_away(x, digits) == expected


def test_round_half_away_vectorized_keeps_shape_and_nan():
    arr = np.array([[0.5, 2.5], [-2.5, np.nan]])
    out = round_half_away(arr, 0)
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out[0], [1.0, 3.0])
    assert out[1, 0] == -3.0 and math.isnan(out[1, 1])
    assert math.isnan(round_half_away(float("nan"), 1))
    assert math.isnan(round_half_away(None, 1))
    assert round_half_away(float("inf"), 1) == float("inf")


def test_fmt_num_digits_zero_sign_and_missing():
    assert fmt_num(3, 2) == "3.00"
    assert fmt_num(2.5, 0) == "3"
    assert fmt_num(-0.04, 1) == "0.0"
    assert fmt_num(-0.04, 1, signed_zero=True) == "-0.0"
    assert fmt_num(float("nan"), 1) == ""
    assert fmt_num(None, 1, missing="-") == "-"
    assert fmt_num(float("inf"), 1) == "NE"


def test_fmt_p_styles():
    assert fmt_p(0.0793) == "0.079"
    assert fmt_p(0.0005) == "<0.001"
    assert fmt_p(0.0015) == "0.002"
    assert fmt_p(0.9996) == ">0.999"
    assert fmt_p(0.0793, style="sas") == "0.0793"
    assert fmt_p(0.00004, style="sas") == "<.0001"
    assert fmt_p(1.0, style="sas") == "1.0000"
    assert fmt_p(float("nan")) == ""
    with pytest.raises(InvalidInputError, match=r"p must be within \[0, 1\]; got 1.5"):
        fmt_p(1.5)
    with pytest.raises(InvalidInputError, match="style must be one of"):
        fmt_p(0.5, style="stata")


def test_fmt_n_pct_and_ci():
    assert fmt_n_pct(12, 40) == "12 (30.0)"
    assert fmt_n_pct(0, 40) == "0"
    assert fmt_n_pct(0, 40, zero="0 (0.0)") == "0 (0.0)"
    assert fmt_n_pct(40, 40, hundred="100") == "40 (100)"
    assert fmt_n_pct(17, pct=42.65) == "17 (42.7)"
    with pytest.raises(InvalidInputError, match="count must not exceed the denominator; got 5 of 4"):
        fmt_n_pct(5, 4)
    with pytest.raises(InvalidInputError, match="needs a denominator or pct"):
        fmt_n_pct(5)
    assert fmt_ci(0.6951, 0.7787, 3) == "(0.695, 0.779)"
    assert fmt_ci(4.31, float("nan")) == "(4.31, NE)"
    assert fmt_ci(-0.14305, 0.23255, 4, brackets="[]") == "[-0.1431, 0.2326]"


def test_bad_digits_named():
    with pytest.raises(InvalidInputError, match=r"digits must be an integer within \[-15, 15\]; got 1.5"):
        round_half_away(1.0, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="value to format must be a number"):
        fmt_num("abc", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("digits", [-2, 0, 1, 2, 3, 4])
def test_vectorized_path_equals_exact_decimal_rule(digits):
    """The array path rounds on scaled doubles and falls back to decimal near halves; it must
    agree with the scalar decimal rule everywhere, halves included."""
    rng = np.random.default_rng(digits + 10)
    halves = (rng.integers(-10**6, 10**6, 3000) + 0.5) / 10.0**digits  # exact x.5 in decimal
    values = np.concatenate([halves, rng.normal(0, 1e3, 3000), rng.normal(0, 1e-2, 1000),
                             [0.0, -0.0, 1e300, -1e300, 2.0**53 + 2, 42.65, 1.005, 2.675]])
    fast = round_half_away(values, digits)
    exact = np.array([round_half_away(float(v), digits) for v in values])
    np.testing.assert_array_equal(fast, exact)


def test_huge_values_do_not_overflow_the_decimal_context():
    assert round_half_away(1e30, 2) == 1e30
    assert fmt_num(1e20, 0) == "100000000000000000000"
    assert round_half_away(-1e300, -3) == -1e300


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(min_value=0, max_value=6))
def test_rounding_properties(x, digits):
    """Within half a unit of the last digit, odd around zero, and idempotent."""
    r = round_half_away(x, digits)
    assert abs(r - x) <= 0.5 * 10.0**-digits * (1 + 1e-9) + abs(x) * 1e-15
    assert round_half_away(-x, digits) == -r
    assert round_half_away(r, digits) == r
