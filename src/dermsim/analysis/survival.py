"""Time to event: Kaplan-Meier with SAS/R confidence intervals, quantiles, log-rank, Cox PH.

* Kaplan-Meier (:func:`estimate_km`) is computed here with NumPy, not with lifelines, because
  the field needs what lifelines does not offer: the choice of SAS PROC LIFETEST / R survfit
  interval transforms (``log-log``, the SAS default; ``log``, the R default; ``linear``,
  ``logit``, ``asinsqrt``) with Greenwood's variance, and SAS's rule for the confidence limits
  of the median and other quantiles (Brookmeyer-Crowley on the transformed scale). lifelines'
  ``KaplanMeierFitter`` is the cross-check in the unit tests.
* Log-rank and its weighted forms (Gehan-Wilcoxon, Tarone-Ware), optionally stratified
  (:func:`test_logrank`), as SAS ``STRATA``/``GROUP=`` and R ``survdiff(... + strata())``:
  lifelines has no stratified test.
* Cox proportional hazards (:func:`estimate_cox`) by statsmodels ``PHReg``, which offers both
  Breslow ties (SAS PHREG default) and Efron ties (R coxph default); lifelines has only Efron.

Times and events are plain arrays: one record per subject, ``event`` 1 for an event and 0 for
censoring (an ADTTE ``CNSR`` is ``1 - event``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy import stats

from dermsim.analysis.results import StatPairs, _Result, ard_pairs
from dermsim.errors import DataValidationError, InvalidInputError, NotEstimableError, SolverError

__all__ = [
    "CONF_TYPES",
    "CoxResult",
    "HazardRatio",
    "KaplanMeierResult",
    "LogRankResult",
    "SurvivalAtTime",
    "SurvivalQuantile",
    "estimate_cox",
    "estimate_km",
    "estimate_km_by_group",
    "test_logrank",
]

ConfType = Literal["log-log", "log", "linear", "logit", "asinsqrt"]
CONF_TYPES: tuple[str, ...] = ("log-log", "log", "linear", "logit", "asinsqrt")
_REL_TOL = 1e-10  # S(t) equal to 1 - p "exactly": products of ratios differ from p in the last bits


def _check_conf(conf_level: float, conf_type: str) -> None:
    if conf_type not in CONF_TYPES:
        raise InvalidInputError(f"conf_type must be one of {', '.join(CONF_TYPES)}; got {conf_type!r}.")
    if not 0 < conf_level < 1:
        raise InvalidInputError(f"conf_level must be within (0, 1); got {conf_level!r}.")


def _time_event(time: Sequence[float] | np.ndarray, event: Sequence[float] | np.ndarray,
                ) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    if t.ndim != 1 or t.shape != e.shape:
        raise InvalidInputError(
            f"time and event must be 1-D of the same length; got {t.shape} and {e.shape}.")
    if t.size == 0:
        raise InvalidInputError("time must hold at least one record; got none.")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        bad = t[~np.isfinite(t) | (t < 0)][0]
        raise InvalidInputError(f"time must be finite and >= 0; got {bad}.")
    if not np.all(np.isin(e, (0.0, 1.0))):
        bad = e[~np.isin(e, (0.0, 1.0))][0]
        raise InvalidInputError(f"event must be 1 (event) or 0 (censored); got {bad}.")
    return t, e.astype(bool)


# --------------------------------------------------------------------------------------------
# Kaplan-Meier

@dataclass(frozen=True)
class SurvivalAtTime(_Result):
    """Kaplan-Meier survival at one time with Greenwood SE and CI, and the number at risk."""

    time: float
    n_risk: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "ci_lower", "ci_upper")


@dataclass(frozen=True)
class SurvivalQuantile(_Result):
    """A survival-time quantile (``prob`` 0.5: the median) with its CI; NaN where not reached
    (SAS prints "NE")."""

    prob: float
    estimate: float
    ci_lower: float
    ci_upper: float

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "ci_lower", "ci_upper")


@dataclass(frozen=True, eq=False)
class KaplanMeierResult(_Result):
    """The Kaplan-Meier estimate of one group: the table at every distinct time (events and
    censorings) with survival, Greenwood SE of S and pointwise CI of the chosen transform."""

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    survival: np.ndarray
    se: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    conf_type: str
    conf_level: float
    group_level: str = ""
    _log_var: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    @property
    def n(self) -> int:
        return int(self.n_risk[0]) if self.n_risk.size else 0

    @property
    def n_events(self) -> int:
        return int(self.n_event.sum())

    @property
    def median(self) -> SurvivalQuantile:
        return self.quantile(0.5)

    def quantile(self, prob: float) -> SurvivalQuantile:
        """The time by which a fraction ``prob`` has had the event: the smallest event time with
        S(t) < 1 - prob, the midpoint to the next event time where S equals 1 - prob (SAS, R).

        CI (SAS LIFETEST, Brookmeyer-Crowley on the ``conf_type`` scale): from the first event
        time whose lower limit is <= 1 - prob to the first event time whose upper limit is below
        1 - prob; an unreached limit is NaN.
        """
        if not 0 < prob < 1:
            raise InvalidInputError(f"prob must be within (0, 1); got {prob!r}.")
        target = 1.0 - prob
        ev = self.n_event > 0
        t, s = self.time[ev], self.survival[ev]
        lo, hi = self.ci_lower[ev], self.ci_upper[ev]
        tol = _REL_TOL * target
        est = math.nan
        below = np.flatnonzero(s < target - tol)
        equal = np.flatnonzero(np.abs(s - target) <= tol)
        if equal.size:
            j = equal[0]
            est = float((t[j] + t[j + 1]) / 2) if j + 1 < t.size else float(t[j])
        elif below.size:
            est = float(t[below[0]])
        lo_hit = np.flatnonzero(np.nan_to_num(lo, nan=1.0) <= target + tol)
        hi_hit = np.flatnonzero(np.nan_to_num(hi, nan=1.0) < target - tol)
        return SurvivalQuantile(prob, est, float(t[lo_hit[0]]) if lo_hit.size else math.nan,
                                float(t[hi_hit[0]]) if hi_hit.size else math.nan)

    def survival_at(self, times: Sequence[float] | np.ndarray | float) -> tuple[SurvivalAtTime, ...]:
        """S(t) of the step function (right-continuous) at each of ``times``, with SE, CI and the
        number at risk (records with time >= t). Beyond the last time the last value holds, as
        R ``summary(fit, times, extend = TRUE)``; before the first event S is 1 with SE 0
        and CI (1, 1)."""
        ts = np.atleast_1d(np.asarray(times, dtype=float))
        idx = np.searchsorted(self.time, ts, side="right") - 1
        out = []
        for t, k in zip(ts, idx, strict=True):
            if k < 0:
                out.append(SurvivalAtTime(float(t), self.n, 1.0, 0.0, 1.0, 1.0))
            else:
                out.append(SurvivalAtTime(float(t), int(self.at_risk([t])[0]), float(self.survival[k]),
                                          float(self.se[k]), float(self.ci_lower[k]),
                                          float(self.ci_upper[k])))
        return tuple(out)

    def at_risk(self, times: Sequence[float] | np.ndarray) -> np.ndarray:
        """Numbers at risk at ``times`` (records with time >= t), as printed under KM plots."""
        ts = np.asarray(times, dtype=float)
        # n_risk[i] counts records with time >= time[i]; at t it is n_risk of the first time >= t
        k = np.searchsorted(self.time, ts, side="left")
        padded = np.append(self.n_risk, 0)
        return padded[k].astype(int)

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "n", "n_events")

    def ard_blocks(self, times: Sequence[float] = ()) -> list[tuple[dict[str, str], StatPairs]]:
        """(columns, pairs) for :func:`~dermsim.analysis.ard.make_rows`: n and events, the median
        with CI, and at each of ``times`` the number at risk and S(t) with SE and CI."""
        g = {"group_level": self.group_level}
        out: list[tuple[dict[str, str], StatPairs]] = [({**g, "method": "km"}, self.to_ard_rows()),
                                                       ({**g, "variable_level": "median", "method": "km"},
                                                        self.median.to_ard_rows())]
        for s in self.survival_at(list(times)) if len(times) else ():
            visit = _time_text(s.time)
            out.append(({**g, "variable_level": "at_risk", "timepoint": visit, "method": "km"},
                        [("n", float(s.n_risk))]))
            out.append(({**g, "variable_level": "survival", "timepoint": visit,
                         "method": f"km_{self.conf_type}"}, s.to_ard_rows()))
        return out

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.time, "n_risk": self.n_risk, "n_event": self.n_event,
                             "n_censor": self.n_censor, "survival": self.survival, "se": self.se,
                             "ci_lower": self.ci_lower, "ci_upper": self.ci_upper})

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {str(k): v.tolist() for k, v in self.to_frame().items()}
        d.update(conf_type=self.conf_type, conf_level=self.conf_level, group_level=self.group_level,
                 log_var=self._log_var.tolist())
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        arr = {k: np.asarray(data[k], dtype=float) for k in
               ("time", "n_risk", "n_event", "n_censor", "survival", "se", "ci_lower", "ci_upper")}
        for k in ("n_risk", "n_event", "n_censor"):
            arr[k] = arr[k].astype(int)
        return cls(**arr, conf_type=data["conf_type"], conf_level=float(data["conf_level"]),
                   group_level=str(data.get("group_level", "")),
                   _log_var=np.asarray(data.get("log_var", []), dtype=float))


def _time_text(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else repr(float(t))


def _band(s: np.ndarray, log_var: np.ndarray, conf_type: str, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S from the Greenwood variance of the cumulative hazard ``log_var``
    (sum d / (n (n - d))); formulas of SAS PROC LIFETEST ``CONFTYPE=`` and R ``conf.type``."""
    sig = np.sqrt(log_var)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "linear":
            lo, hi = s - z * s * sig, s + z * s * sig
        elif conf_type == "log":
            lo, hi = s * np.exp(-z * sig), s * np.exp(z * sig)
        elif conf_type == "log-log":
            theta, w = np.log(-np.log(s)), z * sig / np.log(s)  # w < 0
            lo, hi = np.exp(-np.exp(theta - w)), np.exp(-np.exp(theta + w))
        elif conf_type == "logit":
            theta, w = np.log(s / (1 - s)), z * sig / (1 - s)
            lo, hi = 1 / (1 + np.exp(-(theta - w))), 1 / (1 + np.exp(-(theta + w)))
        else:  # asinsqrt
            theta, w = np.arcsin(np.sqrt(s)), 0.5 * z * sig * np.sqrt(s / (1 - s))
            lo = np.sin(np.clip(theta - w, 0, np.pi / 2)) ** 2
            hi = np.sin(np.clip(theta + w, 0, np.pi / 2)) ** 2
    lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    # before the first event S = 1 with variance 0: the interval is (1, 1), as R survfit reports;
    # at S = 0 only the linear and log transforms are defined (R gives NA, SAS prints blanks)
    lo, hi = np.where(s >= 1, 1.0, lo), np.where(s >= 1, 1.0, hi)
    undefined = ((s <= 0) & (conf_type not in ("linear", "log"))) | ~np.isfinite(sig)
    lo, hi = np.where(undefined, np.nan, lo), np.where(undefined, np.nan, hi)
    return lo, hi


def estimate_km(time: Sequence[float] | np.ndarray, event: Sequence[float] | np.ndarray, *,
                conf_type: ConfType = "log-log", conf_level: float = 0.95,
                group_level: str = "") -> KaplanMeierResult:
    """Kaplan-Meier estimate with Greenwood SE and pointwise CI (default log-log, as SAS).

    Equals R ``survfit(Surv(time, event) ~ 1, conf.type = conf_type)`` and SAS ``PROC LIFETEST
    CONFTYPE=``; an event and a censoring at the same time count the event first.
    """
    _check_conf(conf_level, conf_type)
    t, e = _time_event(time, event)
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=ut.size).astype(int)
    c = np.bincount(inv, weights=~e, minlength=ut.size).astype(int)
    n_risk = t.size - np.concatenate(([0], np.cumsum(d + c)[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / n_risk)
        inc = np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0)
    log_var = np.cumsum(inc)  # inf once S reaches 0
    with np.errstate(invalid="ignore"):
        se = np.where(np.isfinite(log_var), s * np.sqrt(log_var), np.nan)
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    lo, hi = _band(s, log_var, conf_type, z)
    return KaplanMeierResult(ut, n_risk.astype(int), d, c, s, se, lo, hi, conf_type, conf_level,
                             group_level, log_var)


def estimate_km_by_group(time: Sequence[float] | np.ndarray, event: Sequence[float] | np.ndarray,
                         group: Sequence[object] | np.ndarray, *, levels: Sequence[str] | None = None,
                         conf_type: ConfType = "log-log", conf_level: float = 0.95,
                         ) -> dict[str, KaplanMeierResult]:
    """Kaplan-Meier per level of ``group`` (levels sorted as text unless given)."""
    g = _group_text(group, len(np.atleast_1d(time)))
    lv = _group_levels(g, levels)
    t, e = np.asarray(time, dtype=float), np.asarray(event, dtype=float)
    return {a: estimate_km(t[g == a], e[g == a], conf_type=conf_type, conf_level=conf_level, group_level=a)
            for a in lv}


def _group_text(group: Sequence[object] | np.ndarray, n: int) -> np.ndarray:
    g = pd.Series(np.asarray(group, dtype=object))
    if len(g) != n:
        raise InvalidInputError(f"group must have one value per record ({n}); got {len(g)}.")
    if g.isna().any():
        raise InvalidInputError(f"group must not be missing; got a missing value at position "
                                f"{int(np.flatnonzero(g.isna().to_numpy())[0])}.")
    return g.map(lambda x: str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)).to_numpy()


def _group_levels(g: np.ndarray, levels: Sequence[str] | None) -> list[str]:
    present = sorted(set(g.tolist()))
    if levels is None:
        return present
    levels = [str(x) for x in levels]
    unknown = [x for x in present if x not in levels]
    if unknown:
        raise InvalidInputError(f"levels must include every group in the data; {unknown[0]!r} is not among "
                                f"{', '.join(levels)}.")
    return [x for x in levels if x in present]


# --------------------------------------------------------------------------------------------
# log-rank

@dataclass(frozen=True)
class LogRankResult(_Result):
    """The (weighted, optionally stratified) log-rank chi-square test of equal survival."""

    statistic: float
    df: int
    p_value: float
    levels: tuple[str, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    weights: str
    n_strata: int = 1
    method: str = "logrank"

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "statistic", "df", "p_value")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        d = dict(data)
        for k in ("levels", "observed", "expected"):
            d[k] = tuple(d[k])
        return cls(**d)


_LR_WEIGHTS = ("logrank", "wilcoxon", "tarone-ware", "peto-peto")


def test_logrank(time: Sequence[float] | np.ndarray, event: Sequence[float] | np.ndarray,
                 group: Sequence[object] | np.ndarray, *, strata: Sequence[object] | np.ndarray | None = None,
                 weights: str = "logrank", levels: Sequence[str] | None = None) -> LogRankResult:
    """k-sample log-rank test (SAS LIFETEST ``STRATA group``, R ``survdiff``), with Gehan-Wilcoxon
    (weight n at risk, SAS ``TEST=WILCOXON``), Tarone-Ware (sqrt n) or Peto-Peto (pooled S(t-),
    R ``survdiff(rho = 1)``, SAS ``TEST=PETO``) weights; with ``strata`` the per-stratum
    observed-minus-expected and variance are summed (SAS ``STRATA s / GROUP=g``, R
    ``survdiff(Surv ~ g + strata(s))``)."""
    if weights not in _LR_WEIGHTS:
        raise InvalidInputError(f"weights must be one of {', '.join(_LR_WEIGHTS)}; got {weights!r}.")
    t, e = _time_event(time, event)
    g = _group_text(group, t.size)
    lv = _group_levels(g, levels)
    if len(lv) < 2:
        raise NotEstimableError(f"group must have at least 2 levels; got {', '.join(lv) or 'none'}.")
    k = len(lv)
    gi = pd.Index(lv).get_indexer(g)
    st = np.zeros(t.size, dtype=int) if strata is None else pd.factorize(
        _group_text(strata, t.size), sort=True)[0]
    u = np.zeros(k)
    v = np.zeros((k, k))
    obs = np.zeros(k)
    exp_ = np.zeros(k)
    for s in np.unique(st):
        m = st == s
        ut, inv = np.unique(t[m], return_inverse=True)
        nt = ut.size
        # per time x group: events and records leaving; risk sets by reverse cumulative sums
        d_tg = np.zeros((nt, k))
        out_tg = np.zeros((nt, k))
        np.add.at(d_tg, (inv, gi[m]), e[m])
        np.add.at(out_tg, (inv, gi[m]), 1.0)
        n_tg = np.cumsum(out_tg[::-1], axis=0)[::-1]
        n_t, d_t = n_tg.sum(1), d_tg.sum(1)
        keep = d_t > 0
        n_tg, d_tg, n_t, d_t = n_tg[keep], d_tg[keep], n_t[keep], d_t[keep]
        if weights == "peto-peto":  # pooled left-continuous KM S(t-) of the stratum (R rho = 1)
            w = np.concatenate(([1.0], np.cumprod(1.0 - d_t / n_t)[:-1]))
        else:
            w = {"logrank": np.ones_like(n_t), "wilcoxon": n_t, "tarone-ware": np.sqrt(n_t)}[weights]
        e_tg = d_t[:, None] * n_tg / n_t[:, None]
        u += (w[:, None] * (d_tg - e_tg)).sum(0)
        obs += d_tg.sum(0)
        exp_ += e_tg.sum(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(n_t > 1, w**2 * d_t * (n_t - d_t) / (n_t - 1), 0.0)
        p_tg = n_tg / n_t[:, None]
        v += np.einsum("t,tg->g", f, p_tg) * np.eye(k) - np.einsum("t,tg,th->gh", f, p_tg, p_tg)
    # chi-square on the first k-1 components (V has rank k-1); pinv covers empty groups in strata
    vr, ur = v[:-1, :-1], u[:-1]
    df = int(np.linalg.matrix_rank(vr))
    if df == 0:
        raise DataValidationError("log-rank test: no events in any risk set shared by the groups; "
                                  "the test is not defined.")
    chi2 = float(ur @ np.linalg.pinv(vr) @ ur)
    return LogRankResult(chi2, df, float(stats.chi2.sf(chi2, df)), tuple(lv), tuple(obs.tolist()),
                         tuple(exp_.tolist()), weights, int(np.unique(st).size),
                         method="logrank" if weights == "logrank" else f"logrank_{weights}")


test_logrank.__test__ = False  # a statistic, not a pytest test


# --------------------------------------------------------------------------------------------
# Cox proportional hazards

@dataclass(frozen=True)
class HazardRatio(_Result):
    """One Cox model term: log hazard ratio and SE, hazard ratio with Wald CI, z and p."""

    term: str
    coef: float
    se: float
    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    level: str = ""
    reference: str = ""
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        """``estimate`` is the hazard ratio, ``se`` the SE of its log, ``statistic`` the Wald z."""
        return [("estimate", self.hazard_ratio), ("se", self.se), ("ci_lower", self.ci_lower),
                ("ci_upper", self.ci_upper), ("statistic", self.statistic), ("p_value", self.p_value)]


@dataclass(frozen=True)
class CoxResult(_Result):
    """A fitted Cox model: per-term hazard ratios and the three global tests of SAS PHREG
    "Testing Global Null Hypothesis: BETA=0" (likelihood ratio, score, Wald; df = number of
    terms). ``to_ard_rows`` reports the likelihood-ratio test."""

    terms: tuple[HazardRatio, ...]
    ties: str
    n: int
    n_events: int
    loglik: float
    loglik_null: float
    lr_statistic: float
    lr_df: int
    lr_p_value: float
    score_statistic: float = float("nan")
    score_p_value: float = float("nan")
    wald_statistic: float = float("nan")
    wald_p_value: float = float("nan")
    method: str = "cox"

    def term(self, name: str) -> HazardRatio:
        for t in self.terms:
            if t.term == name:
                return t
        raise InvalidInputError(f"term must be one of {', '.join(t.term for t in self.terms)}; got {name!r}.")

    def to_ard_rows(self) -> StatPairs:
        return [("n", float(self.n)), ("n_events", float(self.n_events)), ("statistic", self.lr_statistic),
                ("df", float(self.lr_df)), ("p_value", self.lr_p_value)]

    def ard_blocks(self) -> list[tuple[dict[str, str], StatPairs]]:
        out: list[tuple[dict[str, str], StatPairs]] = [
            ({"variable_level": "model", "method": f"cox_{self.ties}_lr"}, self.to_ard_rows())]
        for t in self.terms:
            cols = {"variable_level": t.term, "method": f"cox_{self.ties}"}
            if t.level:
                cols.update(group_level=t.level, comparator=t.reference)
            out.append((cols, t.to_ard_rows()))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        d = dict(data)
        d["terms"] = tuple(HazardRatio(**x) for x in d["terms"])
        return cls(**d)


def estimate_cox(data: pd.DataFrame, time: str, event: str, *, covariates: Sequence[str] = (),
                 class_covariates: Mapping[str, str | None] | Sequence[str] = (),
                 strata: str | None = None, ties: Literal["breslow", "efron"] = "breslow",
                 conf_level: float = 0.95, dataset: str = "data") -> CoxResult:
    """Cox proportional hazards by partial likelihood (statsmodels ``PHReg``).

    ``ties="breslow"`` is SAS PROC PHREG's default, ``"efron"`` R ``coxph``'s. ``covariates`` are
    numeric terms; ``class_covariates`` maps a class variable to its reference level (None: the
    first sorted level), coded as indicators ``VAR=level`` against it (SAS ``CLASS v(ref=...)``).
    ``event`` is 1 for an event, 0 for censoring. Records with a missing value are left out.
    """
    import statsmodels.api as sm

    if ties not in ("breslow", "efron"):
        raise InvalidInputError(f"ties must be one of breslow, efron; got {ties!r}.")
    if not 0 < conf_level < 1:
        raise InvalidInputError(f"conf_level must be within (0, 1); got {conf_level!r}.")
    refs = (dict(class_covariates) if isinstance(class_covariates, Mapping)
            else dict.fromkeys(class_covariates))
    used = list(dict.fromkeys([time, event, *covariates, *refs, *([strata] if strata else [])]))
    for v in used:
        if v not in data.columns:
            raise DataValidationError(
                f"{dataset}: variable {v} is missing; the Cox model uses {', '.join(used)}.")
    if not covariates and not refs:
        raise InvalidInputError("estimate_cox needs at least one covariate or class covariate; got none.")
    df = data[used].dropna()
    t, e = _time_event(df[time].to_numpy(), df[event].to_numpy())
    cols: dict[str, np.ndarray] = {}
    meta: dict[str, tuple[str, str]] = {}
    for v in covariates:
        if not pd.api.types.is_numeric_dtype(df[v]):
            raise DataValidationError(f"{dataset}: covariate {v} must be numeric; got {df[v].dtype} "
                                      "(list it in class_covariates).")
        cols[v] = df[v].to_numpy(float)
    for v, ref in refs.items():
        g = _group_text(df[v], len(df))
        lv = sorted(set(g.tolist()))
        ref = lv[0] if ref is None else str(ref)
        if ref not in lv:
            raise InvalidInputError(f"reference level of {v} must be one of {', '.join(lv)}; got {ref!r}.")
        for a in lv:
            if a != ref:
                cols[f"{v}={a}"] = (g == a).astype(float)
                meta[f"{v}={a}"] = (a, ref)
    x = np.column_stack(list(cols.values()))
    st = None if strata is None else pd.factorize(_group_text(df[strata], len(df)), sort=True)[0]
    model = sm.PHReg(t, x, status=e.astype(float), ties=ties, strata=st)
    try:
        fit = model.fit(disp=False)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - singular information
        raise SolverError(f"{dataset}: the Cox model did not converge ({exc}).") from None
    b, se = np.asarray(fit.params), np.asarray(fit.bse)
    if not np.all(np.isfinite(b)) or not np.all(np.isfinite(se)):
        raise SolverError(f"{dataset}: the Cox model did not converge (non-finite estimates; is a "
                          "covariate constant or a group without events?).")
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    terms = []
    for i, name in enumerate(cols):
        zi = b[i] / se[i]
        level, ref = meta.get(name, ("", ""))
        terms.append(HazardRatio(name, float(b[i]), float(se[i]), float(np.exp(b[i])),
                                 float(np.exp(b[i] - z * se[i])), float(np.exp(b[i] + z * se[i])), float(zi),
                                 float(2 * stats.norm.sf(abs(zi))), level, ref, conf_level))
    ll = float(fit.llf)
    ll0 = float(model.loglike(np.zeros_like(b)))
    lr = 2 * (ll - ll0)
    zero = np.zeros_like(b)
    u0 = np.asarray(model.score(zero))
    score = float(u0 @ np.linalg.solve(-np.asarray(model.hessian(zero)), u0))
    wald = float(b @ np.linalg.solve(np.asarray(fit.cov_params()), b))
    k = int(b.size)
    return CoxResult(tuple(terms), ties, int(t.size), int(e.sum()), ll, ll0, lr, k,
                     float(stats.chi2.sf(lr, k)), score, float(stats.chi2.sf(score, k)), wald,
                     float(stats.chi2.sf(wald, k)))
