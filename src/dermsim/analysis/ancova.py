"""One-way ANOVA and ANCOVA as SAS PROC GLM computes them: Type III tests, LS means, differences.

The linear model is fitted by statsmodels OLS on a design matrix built here with sum-to-zero
(effect) coding of every class variable, so that the Wald F test of a term's columns is the SAS
Type III test, also in models with interactions (statsmodels' ``anova_lm(typ=3)`` is correct only
under that coding, which its formula default does not use). What statsmodels does not offer is
written here: LS means (SAS ``LSMEANS``, R ``emmeans``) as linear functions ``L b`` averaged over a
reference grid of the class variables, with

* ``weights="equal"``: every combination of the other class variables weighs the same (SAS
  default, ``emmeans`` default);
* ``weights="observed"``: combinations weighted by their frequencies in the analysed data (SAS
  ``LSMEANS / OM``, ``emmeans(weights = "proportional")``);

numeric covariates at their mean over the analysed records; SEs from ``L V L'``; pairwise
differences with t-based CI and p (SAS ``PDIFF CL``, no multiplicity adjustment); any linear
contrast of the LS means; and a dose-response test with the dose as a continuous term.

Records with a missing value in any model variable are left out (complete cases, as PROC GLM).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from dermsim.analysis.results import StatPairs, _Result, ard_pairs
from dermsim.errors import DataValidationError, InvalidInputError, NotEstimableError

__all__ = [
    "AncovaResult",
    "BatchedAncovaResult",
    "Coefficient",
    "LSMean",
    "LSMeanDifference",
    "OneWayAnovaResult",
    "Type3Test",
    "compute_ancova_batched",
    "estimate_ancova",
    "estimate_dose_response",
    "test_anova_oneway",
]

Weights = Literal["equal", "observed"]


# --------------------------------------------------------------------------------------------
# result classes

@dataclass(frozen=True)
class OneWayAnovaResult(_Result):
    """One-way ANOVA F test of equal group means (SAS ``PROC GLM; CLASS g; MODEL y = g;``)."""

    statistic: float
    df_between: int
    df_within: int
    ss_between: float
    ss_within: float
    p_value: float
    n: int
    method: str = "anova"

    def to_ard_rows(self) -> StatPairs:
        return [("statistic", self.statistic), ("df", float(self.df_between)), ("p_value", self.p_value)]


@dataclass(frozen=True)
class Type3Test(_Result):
    """The Type III F test of one model term."""

    term: str
    df: int
    ss: float
    ms: float
    statistic: float
    p_value: float

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "statistic", "df", "p_value")


@dataclass(frozen=True)
class Coefficient(_Result):
    """A single linear function of the parameters (slope, contrast) with its t test and CI."""

    term: str
    estimate: float
    se: float
    df: int
    statistic: float
    p_value: float
    ci_lower: float
    ci_upper: float
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p_value")


@dataclass(frozen=True)
class LSMean(_Result):
    """LS mean of one level of the group variable, with SE and t-based CI."""

    level: str
    n: int
    estimate: float
    se: float
    df: int
    ci_lower: float
    ci_upper: float
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return [("n", float(self.n)), ("lsmean", self.estimate), ("lsmean_se", self.se),
                ("ci_lower", self.ci_lower), ("ci_upper", self.ci_upper), ("df", float(self.df))]


@dataclass(frozen=True)
class LSMeanDifference(_Result):
    """LS mean of ``level`` minus LS mean of ``reference``: SE, t-based CI, t and two-sided p."""

    level: str
    reference: str
    estimate: float
    se: float
    df: int
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    conf_level: float = 0.95

    def to_ard_rows(self) -> StatPairs:
        return ard_pairs(self, "estimate", "se", "ci_lower", "ci_upper", "statistic", "df", "p_value")


@dataclass(frozen=True)
class AncovaResult(_Result):
    """A fitted ANCOVA (or ANOVA) with the overall model test, Type III tests, covariate slopes,
    LS means of the group variable and their differences.

    ``lsmean_cov`` is the covariance matrix of the LS means (levels in ``levels`` order), so any
    further contrast is :meth:`contrast`. ``ard_blocks()`` gives every part as
    ``(columns, pairs)`` for :func:`dermsim.analysis.ard.make_rows`.
    """

    response: str
    group: str
    levels: tuple[str, ...]
    n: int
    df_model: int
    df_error: int
    ss_model: float
    sse: float
    statistic: float
    p_value: float
    r_squared: float
    root_mse: float
    response_mean: float
    type3: tuple[Type3Test, ...]
    slopes: tuple[Coefficient, ...]
    lsmeans: tuple[LSMean, ...]
    differences: tuple[LSMeanDifference, ...]
    lsmean_cov: tuple[tuple[float, ...], ...]
    weights: str
    conf_level: float = 0.95
    method: str = "ancova"

    # ---- access
    def lsmean(self, level: str) -> LSMean:
        for m in self.lsmeans:
            if m.level == level:
                return m
        raise InvalidInputError(f"level must be one of {', '.join(self.levels)}; got {level!r}.")

    def difference(self, level: str, reference: str) -> LSMeanDifference:
        for d in self.differences:
            if (d.level, d.reference) == (level, reference):
                return d
        return self.contrast(_pair_vector(self.levels, level, reference), f"{level} - {reference}",
                             as_difference=(level, reference))  # type: ignore[return-value]  # with as_difference= contrast returns an LSMeanDifference

    def type3_test(self, term: str) -> Type3Test:
        for t in self.type3:
            if t.term == term:
                return t
        raise InvalidInputError(f"term must be one of {', '.join(t.term for t in self.type3)}; got {term!r}.")

    def slope(self, term: str) -> Coefficient:
        for s in self.slopes:
            if s.term == term:
                return s
        names = ", ".join(s.term for s in self.slopes)
        raise InvalidInputError(f"term must be one of {names}; got {term!r}.")

    def contrast(self, coefficients: Sequence[float] | Mapping[str, float], label: str = "contrast", *,
                 as_difference: tuple[str, str] | None = None) -> Coefficient | LSMeanDifference:
        """A linear contrast ``sum c_i * lsmean_i`` with t test and CI (df of the error term).

        ``coefficients`` are in ``levels`` order, or a mapping level -> coefficient (others 0);
        e.g. ``(-1, 0, 1)`` is the linear trend over three equally spaced doses.
        """
        c = _contrast_vector(self.levels, coefficients)
        m = np.array([x.estimate for x in self.lsmeans])
        cov = np.asarray(self.lsmean_cov, dtype=float)
        est, se = float(c @ m), float(np.sqrt(c @ cov @ c))
        t, p, lo, hi = _t_inference(est, se, self.df_error, self.conf_level)
        if as_difference is not None:
            return LSMeanDifference(as_difference[0], as_difference[1], est, se, self.df_error, lo, hi,
                                    t, p, self.conf_level)
        return Coefficient(label, est, se, self.df_error, t, p, lo, hi, self.conf_level)

    # ---- ARD
    def to_ard_rows(self) -> StatPairs:
        """The overall model test: n, F, numerator df and p."""
        return [("n", float(self.n)), ("statistic", self.statistic), ("df", float(self.df_model)),
                ("p_value", self.p_value)]

    def ard_blocks(self) -> list[tuple[dict[str, str], StatPairs]]:
        """Every part of the result as ``(columns, pairs)``: columns hold ``variable_level``,
        ``group_level``, ``comparator`` and ``method`` for :func:`~dermsim.analysis.ard.make_rows`."""
        out: list[tuple[dict[str, str], StatPairs]] = [
            ({"variable_level": "model", "method": f"{self.method}_model"}, self.to_ard_rows())]
        out += [({"variable_level": t.term, "method": f"{self.method}_type3"}, t.to_ard_rows())
                for t in self.type3]
        # a slope's test is its Type III row (same variable_level): keep only estimate, SE and CI
        out += [({"variable_level": s.term, "method": f"{self.method}_slope"}, s.to_ard_rows()[:4])
                for s in self.slopes]
        out += [({"group_level": m.level, "method": f"{self.method}_lsmeans_{self.weights}"}, m.to_ard_rows())
                for m in self.lsmeans]
        out += [({"group_level": d.level, "comparator": d.reference,
                  "method": f"{self.method}_lsmean_diff_{self.weights}"}, d.to_ard_rows())
                for d in self.differences]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        d = dict(data)
        d["levels"] = tuple(d["levels"])
        d["type3"] = tuple(Type3Test.from_dict(x) for x in d["type3"])
        d["slopes"] = tuple(Coefficient.from_dict(x) for x in d["slopes"])
        d["lsmeans"] = tuple(LSMean.from_dict(x) for x in d["lsmeans"])
        d["differences"] = tuple(LSMeanDifference.from_dict(x) for x in d["differences"])
        d["lsmean_cov"] = tuple(tuple(float(v) for v in row) for row in d["lsmean_cov"])
        return cls(**d)


# --------------------------------------------------------------------------------------------
# one-way ANOVA

def test_anova_oneway(values: Sequence[float] | np.ndarray,
                      groups: Sequence[object] | np.ndarray) -> OneWayAnovaResult:
    """One-way ANOVA F test; missing values (NaN) and their groups' records are left out.

    Vectorized sums per group (``np.bincount``); equals ``scipy.stats.f_oneway`` and R
    ``anova(lm(y ~ factor(g)))``.
    """
    y = np.asarray(values, dtype=float)
    g = np.asarray(groups, dtype=object)
    if y.shape != g.shape or y.ndim != 1:
        raise InvalidInputError(
            f"values and groups must be 1-D of the same length; got {y.shape} and {g.shape}.")
    ok = np.isfinite(y) & pd.notna(g)
    y, g = y[ok], g[ok]
    codes, uniq = pd.factorize(g, sort=True)
    k, n = len(uniq), y.size
    if k < 2:
        raise NotEstimableError(f"groups must have at least 2 levels with values; got {k}.")
    if n - k < 1:
        raise NotEstimableError(f"one-way ANOVA needs more values than groups; got {n} values in {k} groups.")
    cnt = np.bincount(codes, minlength=k).astype(float)
    means = np.bincount(codes, weights=y, minlength=k) / cnt
    ss_between = float(np.sum(cnt * (means - y.mean()) ** 2))
    ss_within = float(np.sum((y - means[codes]) ** 2))
    f = (ss_between / (k - 1)) / (ss_within / (n - k)) if ss_within > 0 else float("inf")
    p = float(stats.f.sf(f, k - 1, n - k)) if np.isfinite(f) else 0.0
    return OneWayAnovaResult(float(f), k - 1, n - k, ss_between, ss_within, p, int(n))


test_anova_oneway.__test__ = False  # a statistic, not a pytest test


# --------------------------------------------------------------------------------------------
# the linear model with effect coding

@dataclass(frozen=True)
class _Design:
    classes: dict[str, tuple[str, ...]]
    numeric: tuple[str, ...]
    interactions: tuple[tuple[str, ...], ...]
    numeric_means: dict[str, float] = field(default_factory=dict)

    @property
    def terms(self) -> list[tuple[str, ...]]:
        return [*((c,) for c in self.classes), *((v,) for v in self.numeric), *self.interactions]

    def _term_columns(self, frame: Mapping[str, np.ndarray], term: tuple[str, ...], n: int) -> np.ndarray:
        block = np.ones((n, 1))
        for var in term:
            if var in self.classes:
                part = _effect_code(frame[var], self.classes[var])
            else:
                part = np.asarray(frame[var], dtype=float)[:, None]
            block = (block[:, :, None] * part[:, None, :]).reshape(n, -1)
        return block

    def matrix(self, frame: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, list[slice]]:
        cols = [np.ones((n, 1))]
        slices: list[slice] = []
        start = 1
        for term in self.terms:
            block = self._term_columns(frame, term, n)
            cols.append(block)
            slices.append(slice(start, start + block.shape[1]))
            start += block.shape[1]
        return np.hstack(cols), slices


def _effect_code(values: np.ndarray, levels: tuple[str, ...]) -> np.ndarray:
    """Sum-to-zero coding: level j < k-1 -> unit vector j, last level -> all -1."""
    k = len(levels)
    idx = pd.Index(levels).get_indexer(np.asarray(values, dtype=object))
    table = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))]) if k > 1 else np.zeros((1, 0))
    return table[idx]


def _levels(s: pd.Series, given: Sequence[str] | None, name: str) -> tuple[str, ...]:
    present = sorted(s.unique())
    if given is None:
        return tuple(present)
    given = tuple(str(x) for x in given)
    missing = [lv for lv in present if lv not in given]
    if missing:
        raise InvalidInputError(f"levels of {name} must include every value in the data; {missing[0]!r} "
                                f"is not among {', '.join(given)}.")
    return tuple(lv for lv in given if lv in present)


def _prepare(data: pd.DataFrame, response: str, classes: Sequence[str], numeric: Sequence[str],
             interactions: Sequence[Sequence[str]], dataset: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InvalidInputError(f"data must be a pandas DataFrame; got {type(data).__name__}.")
    used = list(dict.fromkeys([response, *classes, *numeric, *(v for t in interactions for v in t)]))
    for v in used:
        if v not in data.columns:
            raise DataValidationError(
                f"{dataset}: variable {v} is missing; the model uses {', '.join(used)}.")
    for t in interactions:
        unknown = [v for v in t if v not in classes and v not in numeric]
        if unknown:
            raise InvalidInputError(f"interaction {'*'.join(t)}: {unknown[0]} must also be a main effect "
                                    "(a class variable or covariate of the model).")
    df = data[used].copy()
    for v in [response, *numeric]:
        if not pd.api.types.is_numeric_dtype(df[v]) or pd.api.types.is_bool_dtype(df[v]):
            raise DataValidationError(f"{dataset}: variable {v} must be numeric; got {df[v].dtype}.")
    for c in classes:
        df[c] = df[c].map(lambda x: x if pd.isna(x) else _level_text(x))
    return df.dropna()


def _level_text(x: object) -> str:
    if isinstance(x, float | np.floating) and float(x).is_integer():
        return str(int(x))
    return str(x)


def _fit(df: pd.DataFrame, response: str, design: _Design, dataset: str):
    n = len(df)
    frame = {c: df[c].to_numpy() for c in df.columns}
    x, slices = design.matrix(frame, n)
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        raise NotEstimableError(
            f"{dataset}: the model {response} ~ {' + '.join('*'.join(t) for t in design.terms)} is not of "
            "full "
            f"rank on the {n} complete records ({rank} of {x.shape[1]} parameters estimable); an interaction "
            "cell is empty or a covariate is collinear with the class variables.")
    if n - x.shape[1] < 1:
        raise NotEstimableError(f"{dataset}: {n} complete records leave no error degrees of freedom for "
                                  f"{x.shape[1]} parameters.")
    fit = sm.OLS(df[response].to_numpy(float), x).fit()
    return fit, slices


def _t_inference(est: float, se: float, dfe: int, conf_level: float) -> tuple[float, float, float, float]:
    t = est / se if se > 0 else float("nan")
    p = float(2 * stats.t.sf(abs(t), dfe)) if np.isfinite(t) else float("nan")
    q = float(stats.t.ppf(0.5 + conf_level / 2, dfe))
    return float(t), p, est - q * se, est + q * se


def _contrast_vector(levels: Sequence[str],
                     coefficients: Sequence[float] | Mapping[str, float]) -> np.ndarray:
    if isinstance(coefficients, Mapping):
        unknown = [k for k in coefficients if k not in levels]
        if unknown:
            raise InvalidInputError(f"contrast level must be one of {', '.join(levels)}; got {unknown[0]!r}.")
        return np.array([float(coefficients.get(lv, 0.0)) for lv in levels])
    c = np.asarray(coefficients, dtype=float)
    if c.shape != (len(levels),):
        raise InvalidInputError(f"contrast must have {len(levels)} coefficients (one per level of "
                                f"{', '.join(levels)}); got {c.size}.")
    return c


def _pair_vector(levels: Sequence[str], a: str, b: str) -> np.ndarray:
    return _contrast_vector(levels, {a: 1.0, b: -1.0}) if a != b else np.zeros(len(levels))


def _pairs(levels: tuple[str, ...], pairs: str | Sequence[tuple[str, str]], reference: str | None
           ) -> list[tuple[str, str]]:
    if isinstance(pairs, str):
        if pairs == "all":
            return [(a, b) for a, b in itertools.combinations(levels, 2)]
        if pairs == "reference":
            if reference is None:
                raise InvalidInputError("pairs='reference' needs reference (the comparator level); got None.")
            if reference not in levels:
                raise InvalidInputError(f"reference must be one of {', '.join(levels)}; got {reference!r}.")
            return [(lv, reference) for lv in levels if lv != reference]
        if pairs == "none":
            return []
        raise InvalidInputError(f"pairs must be 'all', 'reference', 'none' or (level, comparator) tuples; "
                                f"got {pairs!r}.")
    out = []
    for a, b in pairs:
        for lv in (a, b):
            if lv not in levels:
                raise InvalidInputError(f"pair level must be one of {', '.join(levels)}; got {lv!r}.")
        out.append((str(a), str(b)))
    return out


# --------------------------------------------------------------------------------------------
# ANCOVA

def estimate_ancova(data: pd.DataFrame, response: str, group: str, *,
                    covariates: Sequence[str] = (), class_covariates: Sequence[str] = (),
                    interactions: Sequence[Sequence[str]] = (), levels: Sequence[str] | None = None,
                    pairs: str | Sequence[tuple[str, str]] = "all", reference: str | None = None,
                    weights: Weights = "equal", conf_level: float = 0.95,
                    dataset: str = "data") -> AncovaResult:
    """Fit ``response ~ group + class_covariates + covariates + interactions`` and return the
    SAS PROC GLM output: model F, R-square, root MSE, Type III tests, covariate slopes, LS means of
    ``group`` and their differences.

    ``levels`` orders the group levels (default sorted, as SAS orders a character CLASS
    variable); ``pairs`` is "all" (every level i minus every later level j, as SAS ``PDIFF``),
    "reference" (every level minus ``reference``), "none", or explicit (level, comparator) tuples.
    ``interactions`` lists tuples of variable names (``[("TRTP", "SITEGR1")]``).
    """
    if weights not in ("equal", "observed"):
        raise InvalidInputError(f"weights must be one of equal, observed; got {weights!r}.")
    if not 0 < conf_level < 1:
        raise InvalidInputError(f"conf_level must be within (0, 1); got {conf_level!r}.")
    classes = [group, *(c for c in class_covariates if c != group)]
    inter = tuple(tuple(t) for t in interactions)
    df = _prepare(data, response, classes, list(covariates), inter, dataset)
    if df.empty:
        raise NotEstimableError(f"{dataset}: no complete records for {response} ~ {group}.")
    class_levels = {c: (_levels(df[c], levels, c) if c == group else tuple(sorted(df[c].unique())))
                    for c in classes}
    if len(class_levels[group]) < 2:
        raise NotEstimableError(f"{dataset}: {group} must have at least 2 levels with complete records; "
                                  f"got {', '.join(class_levels[group]) or 'none'}.")
    for c in classes:
        if len(class_levels[c]) < 1:
            raise DataValidationError(f"{dataset}: class variable {c} has no values.")
    means = {v: float(df[v].mean()) for v in covariates}
    design = _Design(class_levels, tuple(covariates), inter, means)
    fit, slices = _fit(df, response, design, dataset)

    n, dfe = len(df), int(fit.df_resid)
    y = df[response].to_numpy(float)
    sse = float(fit.ssr)
    sst = float(np.sum((y - y.mean()) ** 2))
    df_model = int(fit.df_model)
    ss_model = sst - sse
    mse = sse / dfe
    f_model = (ss_model / df_model) / mse if df_model > 0 and mse > 0 else float("nan")
    p_model = float(stats.f.sf(f_model, df_model, dfe)) if np.isfinite(f_model) else float("nan")
    b = np.asarray(fit.params)
    v = np.asarray(fit.cov_params())

    type3 = []
    for term, sl in zip(design.terms, slices, strict=True):
        bt, vt = b[sl], v[sl, sl]
        q = bt.size
        if q == 0:
            continue
        f = float(bt @ np.linalg.solve(vt, bt) / q)
        type3.append(Type3Test("*".join(term), q, f * q * mse, f * mse, f, float(stats.f.sf(f, q, dfe))))

    slopes = []
    for cov in covariates:
        sl = slices[design.terms.index((cov,))]
        est, se = float(b[sl][0]), float(np.sqrt(v[sl, sl][0, 0]))
        t, p, lo, hi = _t_inference(est, se, dfe, conf_level)
        slopes.append(Coefficient(cov, est, se, dfe, t, p, lo, hi, conf_level))

    lmat = _lsmean_matrix(df, design, group, weights)
    glevels = class_levels[group]
    m = lmat @ b
    cov_m = lmat @ v @ lmat.T
    counts = df[group].value_counts()
    lsmeans = []
    for i, lv in enumerate(glevels):
        se = float(np.sqrt(cov_m[i, i]))
        _, _, lo, hi = _t_inference(float(m[i]), se, dfe, conf_level)
        lsmeans.append(LSMean(lv, int(counts.get(lv, 0)), float(m[i]), se, dfe, lo, hi, conf_level))
    result = AncovaResult(
        response=response, group=group, levels=glevels, n=n, df_model=df_model, df_error=dfe,
        ss_model=ss_model, sse=sse, statistic=float(f_model), p_value=p_model,
        r_squared=ss_model / sst if sst > 0 else float("nan"), root_mse=float(np.sqrt(mse)),
        response_mean=float(y.mean()), type3=tuple(type3), slopes=tuple(slopes), lsmeans=tuple(lsmeans),
        differences=(), lsmean_cov=tuple(tuple(float(x) for x in row) for row in cov_m), weights=weights,
        conf_level=conf_level, method="ancova" if covariates else "anova")
    diffs = tuple(result.contrast(_pair_vector(glevels, a, r), as_difference=(a, r))
                  for a, r in _pairs(glevels, pairs, reference))
    return _replace(result, differences=diffs)


def _replace(result: AncovaResult, **changes: Any) -> AncovaResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


def _lsmean_matrix(df: pd.DataFrame, design: _Design, group: str, weights: Weights) -> np.ndarray:
    """Rows L_a with LS mean_a = L_a b: the design row averaged over the reference grid of the
    other class variables (equal or observed weights), numeric covariates at their mean."""
    others = [c for c in design.classes if c != group]
    combos: list[tuple[str, ...]] = (list(itertools.product(*(design.classes[c] for c in others)))
                                     if others else [()])
    if weights == "observed" and others:
        freq = df.groupby(others, observed=True).size()
        w = np.array([float(freq.get(c[0] if len(c) == 1 else c, 0)) for c in combos])
    else:
        w = np.ones(len(combos))
    w = w / w.sum()
    rows = []
    ng = len(combos)
    for lv in design.classes[group]:
        frame: dict[str, np.ndarray] = {group: np.array([lv] * ng, dtype=object)}
        for j, c in enumerate(others):
            frame[c] = np.array([combo[j] for combo in combos], dtype=object)
        for cov, mean in design.numeric_means.items():
            frame[cov] = np.full(ng, mean)
        x, _ = design.matrix(frame, ng)
        rows.append(w @ x)
    return np.vstack(rows)


def estimate_dose_response(data: pd.DataFrame, response: str, dose: str, *,
                           covariates: Sequence[str] = (), class_covariates: Sequence[str] = (),
                           conf_level: float = 0.95, dataset: str = "data") -> Coefficient:
    """Dose-response test: the slope of ``response`` on ``dose`` entered as a continuous term,
    adjusted for the class covariates and covariates (CDISC pilot t14-3-01: ``CHG ~ TRTPN +
    SITEGR1 + BASE``); ``statistic`` is the t value (its square is the Type III F)."""
    inter: tuple[tuple[str, ...], ...] = ()
    numeric = [dose, *(c for c in covariates if c != dose)]
    df = _prepare(data, response, list(class_covariates), numeric, inter, dataset)
    if df[dose].nunique() < 2:
        raise DataValidationError(f"{dataset}: {dose} must take at least 2 values; got {df[dose].nunique()}.")
    class_levels = {c: tuple(sorted(df[c].unique())) for c in class_covariates}
    design = _Design(class_levels, tuple(numeric), inter)
    fit, slices = _fit(df, response, design, dataset)
    sl = slices[design.terms.index((dose,))]
    est, se = float(fit.params[sl][0]), float(fit.bse[sl][0])
    dfe = int(fit.df_resid)
    t, p, lo, hi = _t_inference(est, se, dfe, conf_level)
    return Coefficient(dose, est, se, dfe, t, p, lo, hi, conf_level)


# --------------------------------------------------------------------------------------------
# many trials at once (design layer)

@dataclass(frozen=True, eq=False)
class BatchedAncovaResult:
    """Per trial: every non-reference arm minus the reference arm, adjusted for strata and
    covariates. Arrays of shape (trials, arms - 1) (``df``: (trials,)); ``levels`` are the arm
    codes compared, in column order."""

    levels: tuple[int, ...]
    reference: int
    estimate: np.ndarray
    se: np.ndarray
    df: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    conf_level: float = 0.95


def compute_ancova_batched(y: np.ndarray, arm: np.ndarray, *, n_arms: int, reference: int = 0,
                           covariates: np.ndarray | None = None, strata: np.ndarray | None = None,
                           n_strata: int | None = None, mask: np.ndarray | None = None,
                           conf_level: float = 0.95, chunk_trials: int = 1024) -> BatchedAncovaResult:
    """ANCOVA LS-mean differences vs ``reference`` for many trials at once: ``y ~ arm + strata +
    covariates`` (additive, so equal and observed-margin weights give the same differences).

    ``y`` (trials, patients); ``arm`` integer codes 0..n_arms-1 and ``strata`` codes
    0..n_strata-1 of the same shape; ``covariates`` (trials, patients, q); ``mask`` marks the
    records analysed (missing outcomes False). Normal equations are solved per trial with stacked
    ``np.linalg.solve`` in chunks of ``chunk_trials``; equals :func:`estimate_ancova` trial by
    trial (unit test). A trial whose design is singular gets NaN rather than stopping the batch.
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise InvalidInputError(f"y must be 2-D (trials, patients); got shape {y.shape}.")
    arm = np.asarray(arm)
    if arm.shape != y.shape:
        raise InvalidInputError(f"arm must have the shape of y {y.shape}; got {arm.shape}.")
    if not (isinstance(n_arms, int | np.integer) and n_arms >= 2) or not 0 <= reference < n_arms:
        raise InvalidInputError(f"n_arms must be an integer >= 2 and reference within [0, n_arms); got "
                                f"n_arms={n_arms!r}, reference={reference!r}.")
    if arm.min() < 0 or arm.max() >= n_arms:
        raise InvalidInputError(f"arm codes must be within [0, {n_arms - 1}]; got {arm.min()}..{arm.max()}.")
    ntr, npat = y.shape
    m = np.isfinite(y) if mask is None else np.asarray(mask, dtype=bool) & np.isfinite(y)
    parts = [np.ones((ntr, npat, 1))]
    others = [a for a in range(n_arms) if a != reference]
    parts.append((arm[..., None] == np.asarray(others)).astype(float))
    if strata is not None:
        strata = np.asarray(strata)
        ns = int(n_strata if n_strata is not None else strata.max() + 1)
        if strata.shape != y.shape or strata.min() < 0 or strata.max() >= ns:
            raise InvalidInputError(
                f"strata must be codes within [0, {ns - 1}] with the shape of y {y.shape}.")
        parts.append((strata[..., None] == np.arange(1, ns)).astype(float))
    if covariates is not None:
        cov = np.asarray(covariates, dtype=float)
        cov = cov[..., None] if cov.ndim == 2 else cov
        if cov.shape[:2] != y.shape:
            raise InvalidInputError(
                f"covariates must be (trials, patients[, q]) like y {y.shape}; got {cov.shape}.")
        m &= np.all(np.isfinite(cov), axis=-1)
        parts.append(np.nan_to_num(cov))
    k = len(others)
    est = np.empty((ntr, k))
    se = np.empty((ntr, k))
    dfe = np.empty(ntr)
    yz = np.where(m, y, 0.0)
    for lo in range(0, ntr, chunk_trials):
        sl = slice(lo, min(lo + chunk_trials, ntr))
        x = np.concatenate([p[sl] for p in parts], axis=-1) * m[sl, :, None]
        xt = x.transpose(0, 2, 1)
        xtx = xt @ x  # stacked BLAS products: several times faster than einsum here
        xty = (xt @ yz[sl][..., None])[..., 0]
        # a trial whose design is singular (an arm or stratum without analysed records) gets NaN
        singular = ~(np.linalg.cond(xtx) < 1e12)
        xtx[singular] = np.eye(xtx.shape[-1])
        inv = np.linalg.inv(xtx)
        inv[singular] = np.nan
        b = np.einsum("tij,tj->ti", inv, xty)
        resid = (yz[sl] - (x @ b[..., None])[..., 0]) * m[sl]
        d = m[sl].sum(1) - x.shape[-1]
        sigma2 = np.einsum("tn,tn->t", resid, resid) / np.where(d > 0, d, np.nan)
        est[sl] = b[:, 1:1 + k]
        se[sl] = np.sqrt(sigma2[:, None] * np.diagonal(inv, axis1=1, axis2=2)[:, 1:1 + k])
        dfe[sl] = d
    with np.errstate(invalid="ignore", divide="ignore"):
        t = est / se
        p = 2 * stats.t.sf(np.abs(t), dfe[:, None])
        q = stats.t.ppf(0.5 + conf_level / 2, dfe)[:, None]
    return BatchedAncovaResult(tuple(others), int(reference), est, se, dfe, est - q * se, est + q * se, t, p,
                               conf_level)
