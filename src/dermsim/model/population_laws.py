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
* IGA, %BSA, EASI and itch are joined by a Gaussian copula chained IGA -> %BSA -> EASI -> itch.
  EASI given IGA is log-normal with an IGA-specific median (ratio from the spec) and common
  sigma; for this construction the mixture mean and SD have a closed form, and (median, sigma)
  are solved so that the IGA mixture has the published EASI mean and SD.
* Enrollment criteria hold by construction (the marginals live inside the entry window) and are
  checked for every patient; drawing the enrolled population directly, rather than screening
  and rejecting, keeps patient i's draws independent of every other patient.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from dermsim.errors import InvalidInputError
from dermsim.model.population_spec import PopulationSpec


@dataclass(frozen=True)
class AgeBandLaw:
    lo: float
    hi: float
    weight: float
    a: float
    b: float


@dataclass(frozen=True)
class PopulationCalibration:
    """Parameters of the sampling laws solved from a spec (see the comment above)."""

    age_bands: tuple[AgeBandLaw, ...]
    female_p: float
    iga3_p: float
    affected_lo: float
    affected_hi: float
    affected_ab: tuple[float, float]
    easi_mu_iga2: float
    easi_log_ratio: float
    easi_sigma: float
    nrs_ab: tuple[float, float]
    rho: tuple[float, float, float]  # iga-affected, affected-easi, easi-nrs (latent)
    rho_hw: float

    def easi_mean_by_iga(self) -> dict[int, float]:
        """Implied mean EASI at IGA 2 and 3 (before the %BSA link shifts them; for display)."""
        base = math.exp(self.easi_mu_iga2 + self.easi_sigma**2 / 2)
        return {2: base, 3: base * math.exp(self.easi_log_ratio)}


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
    pk = np.diff(stats.beta.cdf(edges, a, b))
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


def _easi_lognormal(mean: float, sd: float, p3: float, log_ratio: float, c: float) -> tuple[float, float]:
    """(mu at IGA 2, sigma) so that the IGA mixture of log-normals has this mean and SD, when the
    latent EASI normal has correlation ``c`` with the latent IGA normal (IGA 3 above q)."""
    q = float(stats.norm.ppf(1 - p3)) if 0 < p3 < 1 else (math.inf if p3 <= 0 else -math.inf)

    def h(k: int, sig: float) -> float:
        # E[exp(k sig Z) (1{IGA 2} + exp(k delta) 1{IGA 3})] / exp(k^2 sig^2 / 2), using
        # E[exp(t X) 1{X > q}] = exp(t^2 / 2) Phi(t - q) for the latent IGA normal X.
        return float(special.ndtr(q - k * sig * c) + math.exp(k * log_ratio) * special.ndtr(k * sig * c - q))

    target = math.log1p((sd / mean) ** 2)  # log(E[X^2] / E[X]^2)

    def g(sig: float) -> float:
        return sig**2 + math.log(h(2, sig)) - 2 * math.log(h(1, sig)) - target

    lo_s, hi_s = 1e-6, 5.0
    if g(lo_s) >= 0:
        raise InvalidInputError(f"severity.easi: SD {sd:g} is too small for the IGA split and "
                                f"easi_ratio_iga3_to_iga2 alone; lower the ratio.")
    if g(hi_s) <= 0:
        raise InvalidInputError(f"severity.easi: SD {sd:g} is too large for a log-normal mixture "
                                f"(mean {mean:g}).")
    sig = float(optimize.brentq(g, lo_s, hi_s, xtol=1e-13))
    mu2 = math.log(mean) - sig**2 / 2 - math.log(h(1, sig))
    return mu2, sig


_CALIBRATIONS: dict[str, PopulationCalibration] = {}


def calibrate_population(spec: PopulationSpec) -> PopulationCalibration:
    """Solve the sampling laws of ``spec`` (cached per spec content)."""
    key = json.dumps(spec.to_dict(), sort_keys=True)
    if key in _CALIBRATIONS:
        return _CALIBRATIONS[key]
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
    p3 = sev.iga3_pct.value / 100.0
    rho = (cor.iga_affected.value, cor.affected_easi.value, cor.easi_nrs.value)
    log_ratio = math.log(sev.easi_ratio_iga3_to_iga2.value)
    mu2, sig = _easi_lognormal(sev.easi.mean, sev.easi.sd, p3, log_ratio, rho[0] * rho[1])
    cal = PopulationCalibration(
        age_bands=tuple(bands), female_p=spec.female_pct.value / 100.0, iga3_p=p3,
        affected_lo=el.affected_min_pct, affected_hi=el.affected_max_pct,
        affected_ab=beta_for_moments(el.affected_min_pct, el.affected_max_pct,
                                     sev.affected_pct.mean, sev.affected_pct.sd),
        easi_mu_iga2=mu2, easi_log_ratio=log_ratio, easi_sigma=sig,
        nrs_ab=beta_for_moments(0.0, 10.0, sev.nrs.mean, sev.nrs.sd), rho=rho,
        rho_hw=cor.height_weight_sds.value)
    _CALIBRATIONS[key] = cal
    return cal
