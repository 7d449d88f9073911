"""Sampling laws of the virtual population, solved once per PopulationSpec (cached), and how
the published marginals are matched:

* Bounded marginals (age within its band, affected %BSA within the entry window, itch NRS on
  0-10) are scaled Beta distributions whose mean and SD equal the targets exactly. A truncated
  normal cannot reach them: its SD is at most that of the uniform on the interval (2.89 y on
  2-12 y; 4.91 %BSA on 3-20%), below the published TRuE-AD3 SDs (2.9 y in completed years,
  5.4 %BSA). The Beta reaches any feasible pair; for TRuE-AD3 %BSA it is U-shaped (a = 0.64,
  b = 0.81), which is what a SD of 5.4 inside 3-20% implies (a unimodal law on that window has
  SD <= 5.36 at mean 10.5).
* Age moments of TRuE-AD3 are of age in completed years; the Beta is solved so that floor(age)
  has the published mean and SD (continuous age_y is what the model uses).
* EASI is built, not drawn: EASI = S x sum_k w_k A_k, with A_k the area score of EASI region k
  from the patient's lesion map, w_k the age-specific weights and S the patient's mean sign
  severity (sum of erythema, oedema/papulation, excoriation, lichenification, 1-12). So EASI can
  never exceed what the lesion map allows (12 x sum w A) and rises with %BSA by construction.
  S = 1 + 11 expit(mu + delta [IGA 3] + sigma z): (mu, delta, sigma) are solved numerically, once
  per spec, on a fixed calibration sample of 2^17 patients (common random numbers, its own seed)
  so that EASI has the published mean and SD and the ratio of mean EASI at IGA 3 to IGA 2 set in
  the spec. The calibration sample's Monte Carlo error (SD / sqrt(2^17), 0.015 EASI points for
  TRuE-AD3) is the only gap between the law and the targets.
* IGA, %BSA, severity and itch are joined by a Gaussian copula chained IGA -> %BSA -> S -> itch.
* Enrollment criteria hold by construction (the marginals live inside the entry window) and are
  checked for every patient; drawing the enrolled population directly, rather than screening
  and rejecting, keeps patient i's draws independent of every other patient.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from dermsim.errors import InvalidInputError
from dermsim.model.population.spec import PopulationSpec


@dataclass(frozen=True)
class AgeBandLaw:
    lo: float
    hi: float
    weight: float
    a: float
    b: float


@dataclass(frozen=True)
class MarginalLaws:
    """Laws that follow from the spec in closed form (everything but the severity law)."""

    age_bands: tuple[AgeBandLaw, ...]
    female_p: float
    iga3_p: float
    affected_lo: float
    affected_hi: float
    affected_ab: tuple[float, float]
    nrs_ab: tuple[float, float]
    rho: tuple[float, float, float]  # latent: iga-affected, affected-severity, severity-nrs
    rho_hw: float
    concentration: float


@dataclass(frozen=True)
class SeverityLaw:
    """Mean sign severity S = 1 + 11 expit(mu + delta [IGA 3] + sigma z), z standard normal."""

    mu: float
    delta: float
    sigma: float

    def compute_severity(self, z: np.ndarray, iga3: np.ndarray) -> np.ndarray:
        return SEVERITY_MIN + (SEVERITY_MAX - SEVERITY_MIN) * special.expit(
            self.mu + self.delta * np.asarray(iga3, dtype=np.float64) + self.sigma * z)


@dataclass(frozen=True)
class PopulationCalibration:
    marginals: MarginalLaws
    severity: SeverityLaw
    n_calibration: int


# A region counted in EASI has at least one sign at 1; four signs at 3 give 12.
SEVERITY_MIN, SEVERITY_MAX = 1.0, 12.0


def beta_for_moments(lo: float, hi: float, mean: float, sd: float) -> tuple[float, float]:
    """Shapes (a, b) of the Beta on [lo, hi] with this mean and SD (closed form)."""
    m = (mean - lo) / (hi - lo)
    v = (sd / (hi - lo)) ** 2
    if not 0 < m < 1 or not 0 < v < m * (1 - m):
        raise InvalidInputError(f"no distribution on [{lo:g}, {hi:g}] has mean {mean:g} and SD {sd:g}; "
                                f"the SD must be below {math.sqrt(max((mean - lo) * (hi - mean), 0)):.3g}.")
    k = m * (1 - m) / v - 1
    return m * k, (1 - m) * k


def _floor_moments(lo: float, hi: float, a: float, b: float) -> tuple[float, float]:
    ks = np.arange(math.floor(lo), math.ceil(hi))
    edges = np.clip((np.append(ks, ks[-1] + 1) - lo) / (hi - lo), 0, 1)
    # the regularized incomplete beta is the Beta CDF (scipy.stats.beta.cdf calls it, the same
    # numbers); not through scipy.stats, whose import alone takes about 0.9 s of every process
    pk = np.diff(special.betainc(a, b, edges))
    mean = float(np.sum(pk * ks))
    return mean, float(math.sqrt(max(np.sum(pk * (ks - mean) ** 2), 0.0)))


def beta_for_integer_moments(lo: float, hi: float, mean: float, sd: float) -> tuple[float, float]:
    """Shapes of the Beta on [lo, hi) whose floor (completed years) has this mean and SD."""
    # Start from the continuous match with Sheppard's correction (floor shifts the mean by about
    # -1/2 and removes about 1/12 of variance), then solve exactly on the log-shapes.
    a0, b0 = beta_for_moments(lo, hi, mean + 0.5, math.sqrt(sd**2 + 1 / 12))

    def resid(x: np.ndarray) -> np.ndarray:
        m, s = _floor_moments(lo, hi, math.exp(x[0]), math.exp(x[1]))
        return np.array([m - mean, s - sd])

    sol = optimize.least_squares(resid, np.log([a0, b0]), xtol=1e-14, ftol=1e-14, gtol=1e-14)
    if np.max(np.abs(sol.fun)) > 1e-7:
        raise InvalidInputError(f"age: no Beta on [{lo:g}, {hi:g}) gives completed-year mean {mean:g} and "
                                f"SD {sd:g}; closest {mean + sol.fun[0]:.3g} ({sd + sol.fun[1]:.3g}).")
    return float(math.exp(sol.x[0])), float(math.exp(sol.x[1]))


def fit_severity_law(area_term: np.ndarray, iga3: np.ndarray, z: np.ndarray, *, mean: float, sd: float,
                     ratio: float) -> SeverityLaw:
    """(mu, delta, sigma) such that EASI = S(z, IGA) x area_term has this mean, SD and ratio of
    mean EASI at IGA 3 to IGA 2 over the given (calibration) sample."""
    area = np.asarray(area_term, dtype=np.float64)
    i3 = np.asarray(iga3, dtype=bool)
    if not (np.any(i3) and np.any(~i3)):
        ratio = 1.0  # one IGA grade only: the ratio is not defined and delta is not identified

    def moments(x: np.ndarray) -> np.ndarray:
        law = SeverityLaw(float(x[0]), float(x[1]), float(math.exp(x[2])))
        easi = law.compute_severity(z, i3) * area
        r = easi[i3].mean() / easi[~i3].mean() if np.any(i3) and np.any(~i3) else 1.0
        return np.array([easi.mean() / mean - 1.0, easi.std(ddof=1) / sd - 1.0, r / ratio - 1.0])

    sol = optimize.least_squares(moments, np.array([-0.5, 0.5, math.log(0.8)]), xtol=1e-15, ftol=1e-15,
                                 gtol=1e-15, max_nfev=2000)
    if np.max(np.abs(sol.fun)) > 1e-6:
        raise InvalidInputError(
            f"severity.easi: no sign-severity law gives EASI mean {mean:g}, SD {sd:g} and IGA 3/2 ratio "
            f"{ratio:g} with these lesion maps (severity is at most 12 per region); closest relative "
            f"errors {', '.join(f'{v:+.3g}' for v in sol.fun)}.")
    return SeverityLaw(float(sol.x[0]), float(sol.x[1]), float(math.exp(sol.x[2])))


_MARGINALS: dict[str, MarginalLaws] = {}


def spec_key(spec: PopulationSpec) -> str:
    return json.dumps(spec.to_dict(), sort_keys=True)


def solve_marginal_laws(spec: PopulationSpec) -> MarginalLaws:
    """The closed-form laws of ``spec`` (cached per spec content)."""
    key = spec_key(spec)
    if key in _MARGINALS:
        return _MARGINALS[key]
    bands = []
    for band in spec.age.bands:
        if band.mean_y is None or band.sd_y is None:
            a, b = 1.0, 1.0
        elif band.integer:
            a, b = beta_for_integer_moments(band.min_y, band.max_y, band.mean_y, band.sd_y)
        else:
            a, b = beta_for_moments(band.min_y, band.max_y, band.mean_y, band.sd_y)
        bands.append(AgeBandLaw(band.min_y, band.max_y, band.weight_pct / 100.0, a, b))
    sev, el, cor = spec.severity, spec.eligibility, spec.correlations
    laws = MarginalLaws(
        age_bands=tuple(bands), female_p=spec.female_pct.value / 100.0, iga3_p=sev.iga3_pct.value / 100.0,
        affected_lo=el.affected_min_pct, affected_hi=el.affected_max_pct,
        affected_ab=beta_for_moments(el.affected_min_pct, el.affected_max_pct,
                                     sev.affected_pct.mean, sev.affected_pct.sd),
        nrs_ab=beta_for_moments(0.0, 10.0, sev.nrs.mean, sev.nrs.sd),
        rho=(cor.iga_affected.value, cor.affected_severity.value, cor.severity_nrs.value),
        rho_hw=cor.height_weight_sds.value, concentration=spec.lesions.concentration)
    _MARGINALS[key] = laws
    return laws
