"""Sensitivity of model outputs to the calibrated parameters, over the posterior (issue 18).

* Inputs: the calibrated quantities of a posterior (priors.V2_PARAMETERS), each varied over its
  posterior 5-95 % range, independently (Sobol indices assume independent inputs; the posterior's
  correlations, ``dermsim model posterior``, are not carried into the design). Everything not
  varied stays at the posterior weighted median (the parameter set every simulation uses).
* Outputs (``OUTPUTS``), each a population summary of one fixed virtual population (same patients,
  same seed: common random numbers, so a change in the output is the parameters' doing):
  ``css`` mean average steady-state plasma level (nM) of the regimen, ``iga_ts_w8`` and
  ``easi75_w8`` the responder rates (%) at week 8.
* Local (``tornado``): each input at its 5 % and 95 % posterior quantile, the others at the median.
* Global (``sobol``): Saltelli/Sobol' sampling and Jansen estimators by SALib (first-order S1 and
  total ST with bootstrap confidence intervals). Cost: N (D + 2) model evaluations without second
  order (N (2D + 2) with). ``css`` is analytic (no time stepping) and evaluated for thousands of
  parameter rows per array call; the week-8 scores stack many rows of the fixed population into
  one engine call (model.parameter_rows), so a row costs its patients' 56 days in the compiled
  kernel and little else (``python bench/run.py sensitivity`` measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dermsim._rng import SeedLike, child_generator
from dermsim._validate import check_choice, check_int
from dermsim.calibration.posterior import Posterior
from dermsim.calibration.priors import apply_parameters
from dermsim.errors import InvalidInputError
from dermsim.model.disease import dynamics
from dermsim.model.parameter_rows import endpoints_by_row
from dermsim.model.parameters import ParameterSet
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population.sampling import sample_population
from dermsim.model.simulate import prepare_patients

OUTPUTS: dict[str, str] = {
    "css": "mean average steady-state plasma level, nM",
    "iga_ts_w8": "IGA treatment success at week 8, %",
    "easi75_w8": "EASI-75 at week 8, %",
}
METHODS = ("sobol", "tornado")
WEEK8_DAY = 56
_IIV_STREAM = 0x53454E53  # "SENS": the fixed between-patient draws of the analytic Css


@dataclass(frozen=True)
class Problem:
    """Inputs of a sensitivity analysis: names, 5 % / 50 % / 95 % posterior quantiles."""

    names: tuple[str, ...]
    lower: np.ndarray
    median: np.ndarray
    upper: np.ndarray

    def salib(self) -> dict[str, Any]:
        return {"num_vars": len(self.names), "names": list(self.names),
                "bounds": [[float(lo), float(hi)] for lo, hi in zip(self.lower, self.upper, strict=True)]}


def posterior_problem(post: Posterior, names: Sequence[str] | None = None) -> Problem:
    """The posterior's calibrated quantities (all, or ``names``) over their 5-95 % ranges."""
    summary = post.summary()
    chosen = tuple(post.names) if not names else tuple(names)
    unknown = [n for n in chosen if n not in summary]
    if unknown:
        raise InvalidInputError(f"--params must name calibrated parameters ({', '.join(post.names)}); "
                                f"got {', '.join(unknown)}.")
    get = lambda q: np.array([summary[n][q] for n in chosen])  # noqa: E731
    lo, mid, hi = get("q05"), get("median"), get("q95")
    flat = [n for n, a, b in zip(chosen, lo, hi, strict=True) if not b > a]
    if flat:
        raise InvalidInputError(f"parameters {', '.join(flat)} have no posterior spread to vary.")
    return Problem(chosen, lo, mid, hi)


@dataclass
class ModelOutputs:
    """``self(X, output)`` -> (K,) outputs for K rows of the problem's inputs (natural scale); the
    inputs not in the problem stay at the posterior median. One fixed virtual population."""

    post: Posterior
    problem: Problem
    population: str = "true-ad1"
    n_patients: int = 100
    strength_pct: float = 1.5
    seed: int = 1
    base: ParameterSet | None = None
    workers: int = 2
    progress: Callable[[int], None] | None = None
    _pop: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        check_int("--patients", self.n_patients, minimum=2)
        self._pop = sample_population(self.population, self.n_patients, self.seed)
        self.regimen = Regimen.bid(self.strength_pct)
        median = np.array([self.post.summary()[n]["median"] for n in self.post.names])
        self._median = median
        self._cols = [self.post.names.index(n) for n in self.problem.names]

    def full(self, x: np.ndarray) -> np.ndarray:
        """One row of the problem's inputs placed into the posterior's full vector."""
        v = self._median.copy()
        v[self._cols] = x
        return v

    def parameter_set(self, x: np.ndarray) -> ParameterSet:
        return apply_parameters(self.full(x), self.post.prior, self.base)

    def __call__(self, X: np.ndarray, output: str) -> np.ndarray:
        check_choice("--output", output, tuple(OUTPUTS))
        X = np.atleast_2d(np.asarray(X, float))
        if output == "css":
            return self._css(X)
        return self._week8(X, output)

    # -- Css: analytic, many rows per array call ------------------------------------------------
    def _css(self, X: np.ndarray, block: int = 2048) -> np.ndarray:
        pop, reg = self._pop, self.regimen
        cols = {k: np.asarray(getattr(pop, k)) for k in ("age_y", "weight_kg", "bsa_m2", "affected_pct",
                                                            "easi0", "iga0", "nrs0")}
        base = self.parameter_set(self.problem.median)
        prep = prepare_patients(cols, reg, base, self.seed, 0, pop.n)
        damage0 = 1.0 - prep.y0[dynamics.B]  # untreated steady state: no calibrated PK input moves it
        names = list(base.group("pk"))
        z = child_generator(self.seed, _IIV_STREAM).standard_normal((len(names), pop.n))
        # per row, every PK parameter's (value, omega) as apply_parameters would set them
        values = np.array([[p.value for p in base.group("pk").values()]] * X.shape[0])
        omegas = np.array([[p.omega for p in base.group("pk").values()]] * X.shape[0])
        for j, cp in enumerate(self.post.prior.parameters):
            if cp.model_name not in names or cp.field not in ("value", "omega"):
                continue
            col = (X[:, self.problem.names.index(cp.name)] if cp.name in self.problem.names
                   else np.full(X.shape[0], self._median[j]))
            (values if cp.field == "value" else omegas)[:, names.index(cp.model_name)] = col
        bounds = [(p.lower, p.upper) for p in base.group("pk").values()]
        out = np.empty(X.shape[0])
        n = pop.n
        for s in range(0, X.shape[0], block):
            rows = slice(s, min(s + block, X.shape[0]))
            k = rows.stop - rows.start
            ind = {}
            for i, name in enumerate(names):
                v = values[rows, i, None] * np.exp(omegas[rows, i, None] * z[i][None, :])
                lo, hi = bounds[i]
                if lo is not None or hi is not None:
                    v = np.clip(v, lo, hi)
                ind[name] = v.reshape(-1)
            tile = {c: np.tile(cols[c], k) for c in ("weight_kg", "bsa_m2", "affected_pct", "age_y")}
            ppk = pk.derive_patient_pk(ind, reg, **tile)
            css = pk.compute_css_nM(ppk, ppk.grams, reg.strength_pct, reg.applications_per_day,
                                    np.tile(damage0, k))
            out[rows] = css.reshape(k, n).mean(axis=1)
            if self.progress is not None:
                self.progress(k)
        return out

    # -- week-8 scores: many rows per engine call ------------------------------------------------
    def _week8(self, X: np.ndarray, output: str) -> np.ndarray:
        key = {"iga_ts_w8": "iga_ts", "easi75_w8": "easi75"}[output]
        rows = [self.parameter_set(x) for x in X]
        ends = endpoints_by_row(self._pop, self.regimen, WEEK8_DAY, self.seed, rows, day=WEEK8_DAY,
                                threads=self.workers, progress=self.progress)
        return 100.0 * np.nanmean(ends[key], axis=1)


def sobol(func: Callable[[np.ndarray], np.ndarray], problem: Problem | dict[str, Any], n: int,
          seed: SeedLike = 1, second_order: bool = False,
          num_resamples: int = 200) -> pd.DataFrame:
    """Sobol' first-order and total indices (SALib: Saltelli sampling of base size ``n``, a power
    of 2, then the Jansen/Saltelli estimators with bootstrap 95 % intervals). ``func(X)`` -> (K,)."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    n = check_int("--n", n, minimum=2)
    if n & (n - 1):
        raise InvalidInputError(f"--n must be a power of 2 (Sobol' sequences); got {n}.")
    prob = problem.salib() if isinstance(problem, Problem) else problem
    s = int(np.random.SeedSequence(seed if isinstance(seed, int) else 1).generate_state(1)[0])
    X = sobol_sample.sample(prob, n, calc_second_order=second_order, seed=s)
    Y = np.asarray(func(X), float)
    if not np.all(np.isfinite(Y)):
        raise InvalidInputError("the model output is not finite for some parameter rows; narrow the ranges.")
    res = sobol_analyze.analyze(prob, Y, calc_second_order=second_order, num_resamples=num_resamples,
                                seed=s)
    frame = pd.DataFrame({"parameter": prob["names"], "S1": res["S1"], "S1_conf": res["S1_conf"],
                          "ST": res["ST"], "ST_conf": res["ST_conf"]})
    frame.attrs["evaluations"] = int(X.shape[0])
    frame.attrs["output_mean"] = float(Y.mean())
    frame.attrs["output_sd"] = float(Y.std(ddof=1))
    return frame


def tornado(func: Callable[[np.ndarray], np.ndarray], problem: Problem) -> pd.DataFrame:
    """One-at-a-time: each input at its 5 % and 95 % quantile, the others at the median (2 D + 1
    evaluations in one call); rows sorted by the swing |high - low|."""
    d = len(problem.names)
    X = np.repeat(problem.median[None, :], 2 * d + 1, axis=0)
    for j in range(d):
        X[1 + 2 * j, j] = problem.lower[j]
        X[2 + 2 * j, j] = problem.upper[j]
    Y = np.asarray(func(X), float)
    frame = pd.DataFrame({"parameter": problem.names, "low": problem.lower, "median": problem.median,
                          "high": problem.upper, "output_low": Y[1::2], "output_high": Y[2::2],
                          "output_median": Y[0]})
    frame["swing"] = (frame["output_high"] - frame["output_low"]).abs()
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


# Ishigami: f = sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3, with analytic Sobol' indices
def ishigami(X: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    X = np.atleast_2d(X)
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, np.ndarray]:
    """Analytic first-order and total indices of :func:`ishigami` (Ishigami & Homma 1990)."""
    pi4 = np.pi**4
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return {"S1": np.array([v1, v2, 0.0]) / var, "ST": np.array([v1 + v13, v2, v13]) / var}


ISHIGAMI_PROBLEM = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
