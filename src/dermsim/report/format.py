"""The one rounding rule of dermsim and the number formatters built on it.

Statistical tables in this field round half away from zero (SAS ``ROUND``, the CDISC pilot and
sponsor shells). Python's ``round`` rounds half to even on the binary value, so ``round(42.65, 1)``
gives 42.6 (the double is 42.649999...) where SAS prints 42.7. Here a number is rounded as the
decimal a reader sees: the shortest repr of the double (``repr(42.65) == '42.65'``), then
``decimal.ROUND_HALF_UP`` (which in :mod:`decimal` means half away from zero). Every other
formatter in dermsim calls :func:`round_half_away`; nothing else rounds.

Missing values (None, NaN) format as the ``missing`` text of each formatter; an infinite value
formats as "NE" (not estimable), as SAS LIFETEST prints an unreached confidence limit.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import overload

import numpy as np

from dermsim.errors import InvalidInputError

__all__ = ["fmt_ci", "fmt_n_pct", "fmt_num", "fmt_p", "fmt_pct", "round_half_away"]


def _check_digits(digits: int) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int | np.integer) or not -15 <= digits <= 15:
        raise InvalidInputError(f"digits must be an integer within [-15, 15]; got {digits!r}.")
    return int(digits)


def _is_missing(x: object) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        raise InvalidInputError(f"value to format must be a number or None; got {x!r}.") from None


def _to_decimal(x: float, digits: int) -> Decimal:
    """``x`` rounded half away from zero at ``digits`` decimals, exactly, as a Decimal."""
    try:
        d = Decimal(repr(float(x)))
    except (InvalidOperation, ValueError):  # pragma: no cover - float() already validated
        raise InvalidInputError(f"value to round must be a number; got {x!r}.") from None
    # a double has at most 309 integer digits: enough precision that quantize never overflows
    return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_WIDE)


def _round_scalar(x: float, digits: int) -> float:
    x = float(x)
    if not math.isfinite(x):
        return x
    return float(_to_decimal(x, digits))


_round_ufunc = np.frompyfunc(_round_scalar, 2, 1)
_WIDE = Context(prec=400)


def _round_array(arr: np.ndarray, digits: int) -> np.ndarray:
    """Vectorized: round on the scaled value, and send only values whose scaled fraction lies
    within 1e-9 (relative) of one half to the exact decimal path. Away from a half, the double
    and its shortest decimal repr round the same way, so the result equals the exact rule."""
    out = arr.copy()
    finite = np.isfinite(arr)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = arr * 10.0**digits
        mag = np.abs(scaled)
        floor = np.floor(mag)
        frac = mag - floor
        rounded = np.copysign(floor + (frac >= 0.5), scaled)
        fast = rounded / 10.0**digits if digits >= 0 else rounded * 10.0 ** (-digits)
        near = finite & (np.abs(frac - 0.5) <= 1e-9 * np.maximum(mag, 1.0))
        # beyond 2**52 a double is an integer: nothing to round at digits >= 0
        keep = finite & (np.abs(arr) >= 2.0**52) if digits >= 0 else np.zeros_like(finite)
    ok = finite & ~near & ~keep & np.isfinite(fast)
    out[ok] = fast[ok]
    slow = finite & ~ok & ~keep
    if slow.any():
        out[slow] = _round_ufunc(arr[slow], digits).astype(float)
    return out


@overload
def round_half_away(x: float, digits: int = 0) -> float: ...
@overload
def round_half_away(x: np.ndarray, digits: int = 0) -> np.ndarray: ...


def round_half_away(x, digits: int = 0):
    """Round half away from zero at ``digits`` decimals (negative: tens, hundreds ...).

    Scalars give a float, array-likes a float array of the same shape; NaN and infinities pass
    through. ``round_half_away(42.65, 1) == 42.7``, ``round_half_away(-2.5) == -3.0``.
    """
    digits = _check_digits(digits)
    if np.ndim(x) == 0:
        if _is_missing(x):
            return float("nan")
        return _round_scalar(float(x), digits)
    return _round_array(np.asarray(x, dtype=float), digits)


def fmt_num(x: float | None, digits: int = 1, *, missing: str = "", signed_zero: bool = False) -> str:
    """``x`` with exactly ``digits`` decimals, rounded half away from zero: 42.65 -> "42.7".

    A value that rounds to zero prints without a minus sign ("-0.0" becomes "0.0") unless
    ``signed_zero`` is set; NaN or None prints ``missing``; an infinity prints "NE".
    """
    digits = _check_digits(digits)
    if _is_missing(x):
        return missing
    v = float(x)
    if math.isinf(v):
        return "NE"
    d = _to_decimal(v, max(digits, 0))
    if digits < 0:
        d = _to_decimal(v, digits).quantize(Decimal(1))
    if d == 0 and not signed_zero:
        d = abs(d)
    return f"{d:f}"


def fmt_pct(pct: float | None, digits: int = 1, *, missing: str = "", percent_sign: bool = False) -> str:
    """A percentage already on the 0-100 scale: 42.65 -> "42.7" (or "42.7%")."""
    text = fmt_num(pct, digits, missing=missing)
    return f"{text}%" if percent_sign and text and text != missing else text


def fmt_n_pct(count: int | None, denominator: int | None = None, *, pct: float | None = None,
              digits: int = 1, zero: str = "0", hundred: str | None = None, missing: str = "") -> str:
    """"n (pct)" as clinical tables print it: ``fmt_n_pct(12, 40)`` -> "12 (30.0)".

    Give either the ``denominator`` (percent = 100 * count / denominator) or ``pct`` directly.
    ``zero`` is what a zero count prints ("0" by default, as the CDISC pilot shells; pass
    "0 (0.0)" or "0" to taste); ``hundred`` replaces the text of 100% ("100" for "40 (100)").
    """
    if _is_missing(count):
        return missing
    n = float(count)
    if not n.is_integer() or n < 0:
        raise InvalidInputError(f"count must be a whole number >= 0; got {count!r}.")
    if pct is None:
        if denominator is None:
            raise InvalidInputError("fmt_n_pct needs a denominator or pct; got neither.")
        den = float(denominator)
        if not den > 0:
            raise InvalidInputError(f"denominator must be > 0; got {denominator!r}.")
        if n > den:
            raise InvalidInputError(f"count must not exceed the denominator; got {int(n)} of {den:g}.")
        pct = 100.0 * n / den
    if n == 0:
        return zero
    pct_text = fmt_num(pct, digits)
    if hundred is not None and float(pct) == 100.0:
        pct_text = hundred
    return f"{int(n)} ({pct_text})"


def fmt_ci(lower: float | None, upper: float | None, digits: int = 2, *, missing: str = "NE",
           sep: str = ", ", brackets: str = "()") -> str:
    """A confidence interval "(lower, upper)"; a missing or infinite limit prints ``missing``
    ("NE", not estimable, as SAS prints an unreached Kaplan-Meier limit)."""
    if len(brackets) != 2:
        raise InvalidInputError(f"brackets must be two characters such as '()'; got {brackets!r}.")

    def one(v: float | None) -> str:
        if _is_missing(v) or math.isinf(float(v)):
            return missing
        return fmt_num(v, digits)

    return f"{brackets[0]}{one(lower)}{sep}{one(upper)}{brackets[1]}"


def fmt_p(p: float | None, digits: int = 3, *, style: str = "lt", missing: str = "") -> str:
    """A p-value.

    ``style="lt"``: ``digits`` decimals, values below 10**-digits print "<0.001" and values
    that would round to 1 print ">0.999" (the usual sponsor convention).
    ``style="sas"``: SAS PVALUE6.4 as PROC GLM/FREQ/LIFETEST print it: 4 decimals, "<.0001"
    below 0.0001 (``digits`` is ignored): 0.0793 -> "0.0793", 1 -> "1.0000".
    """
    if style not in ("lt", "sas"):
        raise InvalidInputError(f"style must be one of lt, sas; got {style!r}.")
    if _is_missing(p):
        return missing
    v = float(p)
    if not 0.0 <= v <= 1.0:
        raise InvalidInputError(f"p must be within [0, 1]; got {p!r}.")
    if style == "sas":
        if v < 1e-4:
            return "<.0001"
        return fmt_num(v, 4)
    digits = _check_digits(digits)
    if digits < 1:
        raise InvalidInputError(f"digits must be >= 1 for a p-value; got {digits}.")
    floor = 10.0 ** -digits
    if v < floor:
        return f"<{fmt_num(floor, digits)}"
    if round_half_away(v, digits) >= 1.0:
        return f">{fmt_num(1 - floor, digits)}"
    return fmt_num(v, digits)
