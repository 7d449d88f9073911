"""Observation models: EASI, IGA (latent ordinal), itch NRS, and patient-level endpoints.

* EASI (model.md 2.4): EASI_i(t) = EASI0_i (D_i(t)/D_i(0))^p exp(eps_it), clipped to [0, 72]; the
  baseline is exactly the population's EASI0 (eps at day 0 is 0). The standard region formula with
  age-specific weights is :func:`compute_easi` (for region-level scoring).
* IGA (model.md 2.6): z_it = log EASI_it + lambda log(D_it/D_i0) + u_i + e_it, IGA = #{k: z > log c_k}.
  u_i and e_i0 are drawn from their joint normal conditional on IGA_i(0) = the population's iga0,
  so IGA is tied to, but not a function of, EASI.
* NRS (model.md 2.5): NRS_it = clip(NRS0_i Q_it/Q_i0 (1 - E_pbo(t)) + noise, 0, 10); weekly mean of
  daily values; missing (NaN) below the self-report age.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from dermsim.errors import InvalidInputError

NRS_WEEK = 7  # days in the weekly mean of the itch NRS
EASI_REGIONS = ("head_neck", "trunk", "upper_limbs", "lower_limbs")
# EASI region weights; ages >= 8 y vs 2 to < 8 y (clinical_facts.md 8, NCT03539601 results page)
EASI_WEIGHTS_8PLUS = np.array([0.1, 0.3, 0.2, 0.4])
EASI_WEIGHTS_UNDER8 = np.array([0.2, 0.3, 0.2, 0.3])


def compute_easi_area_score(region_pct: np.ndarray) -> np.ndarray:
    """EASI area score 0-6 from percent of a region affected (0, 1-9, 10-29, 30-49, 50-69, 70-89, 90-100)."""
    pct = np.asarray(region_pct, float)
    if np.any((pct < 0) | (pct > 100)):
        raise InvalidInputError("region_pct must be within [0, 100]; got values outside.")
    edges = np.array([0.0, 10.0, 30.0, 50.0, 70.0, 90.0])
    score = np.searchsorted(edges, pct, side="right")
    return np.where(pct > 0, score, 0)


def compute_easi_weights(age_y: np.ndarray) -> np.ndarray:
    """Region weights (n, 4) by age: < 8 y uses 0.2/0.3/0.2/0.3 (head/trunk/upper/lower)."""
    age = np.asarray(age_y, float)[:, None]
    return np.where(age < 8.0, EASI_WEIGHTS_UNDER8[None, :], EASI_WEIGHTS_8PLUS[None, :])


def compute_easi(region_pct: np.ndarray, severity_sum: np.ndarray, age_y: np.ndarray) -> np.ndarray:
    """EASI = sum_r w_r(age) x area score_r x (erythema + induration + excoriation + lichenification)_r.

    ``region_pct`` and ``severity_sum`` (0-12 per region) have shape (n, 4) in EASI_REGIONS order.
    """
    sev = np.asarray(severity_sum, float)
    if np.any((sev < 0) | (sev > 12)):
        raise InvalidInputError("severity_sum must be within [0, 12] per region; got values outside.")
    w = compute_easi_weights(age_y)
    return np.clip(np.sum(w * compute_easi_area_score(region_pct) * sev, axis=1), 0.0, 72.0)


def compute_easi_trajectory(easi0: np.ndarray, severity: np.ndarray, p_easi: float | np.ndarray,
                            noise: np.ndarray | None = None, *,
                            severity0: np.ndarray | None = None) -> np.ndarray:
    """EASI (n, T) from the severity index D (n, T) relative to the baseline ``severity0`` (n,)
    (None: column 0 is the baseline)."""
    ratio = severity / (severity[:, :1] if severity0 is None else np.asarray(severity0)[:, None])
    easi = np.asarray(easi0, float)[:, None] * ratio ** np.asarray(p_easi)
    if noise is not None:
        easi = easi * np.exp(noise)
    return np.clip(easi, 0.0, 72.0)


def compute_easi_regional(easi0: np.ndarray, easi_region_pct0: np.ndarray, age_y: np.ndarray,
                          severity_ratio: np.ndarray, p_easi: float, area_share: float) -> np.ndarray:
    """EASI (n, T) scored region by region with the age-specific weights and integer area scores.

    The population's EASI0 is (weights x area scores of its lesion map) x a severity sum s0
    (model.population.sampling); here each EASI region's affected percent shrinks as (D/D0)^(p a) and the
    severity sum as (D/D0)^(p (1 - a)), a = ``area_share``, and the EASI formula is applied as a
    rater would (area score 0-6 per region, severity 0-12, total clipped to 0-72). Day 0 gives
    EASI0 exactly; later values step when a region crosses an area-score boundary.
    """
    from dermsim.model.population import body

    if not 0.0 <= area_share <= 1.0:
        raise InvalidInputError(f"easi_area_share must be within [0, 1]; got {area_share}.")
    pct0 = np.asarray(easi_region_pct0, float)
    weights = body.compute_easi_weights(age_y)
    term0 = body.compute_easi_area_term(pct0, age_y)
    s0 = np.clip(np.asarray(easi0, float) / np.maximum(term0, 1e-12), 0.0, 12.0)
    g = np.asarray(severity_ratio, float)
    pct = np.clip(pct0[:, :, None] * g[:, None, :] ** (p_easi * area_share), 0.0, 100.0)
    scores = body.compute_easi_area_score(pct)
    term = np.zeros(g.shape)
    for k in range(pct0.shape[1]):  # same order as body.compute_easi_area_term
        term += weights[:, k, None] * scores[:, k, :]
    severity = np.clip(s0[:, None] * g ** (p_easi * (1.0 - area_share)), 0.0, 12.0)
    return np.clip(term * severity, 0.0, 72.0)


def _cuts(obs: dict[str, float]) -> np.ndarray:
    cuts = np.log([obs["iga_c1"], obs["iga_c2"], obs["iga_c3"], obs["iga_c4"]])
    if np.any(np.diff(cuts) <= 0):
        raise InvalidInputError(f"IGA cut-points must increase (c1 < c2 < c3 < c4); got {np.exp(cuts)}.")
    return cuts


def sample_iga_offsets(easi0: np.ndarray, iga0: np.ndarray, obs: dict[str, float],
                       uniforms: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Patient offset u_i and baseline visit noise e_i0, drawn given IGA(0) = iga0.

    w = u + e0 ~ N(0, su^2 + se^2) truncated to (log c_k - log EASI0, log c_{k+1} - log EASI0] for
    k = iga0 (inverse-CDF); then u | w is normal with mean w su^2/(su^2+se^2). ``uniforms`` and
    ``normals`` have shape (n,).
    """
    iga0 = np.asarray(iga0).astype(int)
    if np.any((iga0 < 0) | (iga0 > 4)):
        raise InvalidInputError(f"iga0 must be within 0-4; got {iga0.min()}-{iga0.max()}.")
    cuts = np.concatenate([[-np.inf], _cuts(obs), [np.inf]])
    su, se = obs["iga_sigma_u"], obs["iga_sigma_e"]
    sw = np.hypot(su, se)
    loge = np.log(np.maximum(easi0, 1e-6))
    lo = (cuts[iga0] - loge) / sw
    hi = (cuts[iga0 + 1] - loge) / sw
    plo, phi = ndtr(lo), ndtr(hi)
    # far tails: sample at the nearer bound rather than produce infinities
    pu = np.clip(plo + uniforms * (phi - plo), 1e-300, 1 - 1e-16)
    w = np.clip(ndtri(pu), lo, hi) * sw
    w = np.where(np.isfinite(w), w, np.where(np.isfinite(lo), lo, hi) * sw)
    share = su**2 / sw**2
    u = share * w + np.sqrt(share * se**2) * normals
    return u, w - u


def compute_iga(easi: np.ndarray, severity: np.ndarray, offset: np.ndarray, visit_noise: np.ndarray,
                obs: dict[str, float], *, severity0: np.ndarray | None = None) -> np.ndarray:
    """IGA (n, T) int8 from EASI and D (n, T), patient offsets (n,) and visit noise (n, T);
    ``severity0`` (n,) the baseline D (None: column 0)."""
    d0 = severity[:, :1] if severity0 is None else np.asarray(severity0)[:, None]
    z = (np.log(np.maximum(easi, 1e-3)) + obs["iga_lambda"] * np.log(severity / d0)
         + offset[:, None] + visit_noise)
    cuts = _cuts(obs)
    return (z[..., None] > cuts).sum(axis=-1).astype(np.int8)


def compute_iga_grade(easi: np.ndarray, severity_ratio: np.ndarray, offset: np.ndarray,
                      obs: dict[str, float]) -> np.ndarray:
    """Noise-free latent IGA grade (n,) int8: the IGA scale without the visit noise (what an
    as-needed rule on the patient's own state reads, once a day)."""
    z = np.log(np.maximum(easi, 1e-3)) + obs["iga_lambda"] * np.log(severity_ratio) + offset
    return (z[:, None] > _cuts(obs)).sum(axis=-1).astype(np.int8)


def compute_nrs_daily(nrs0: np.ndarray, itch_ratio: np.ndarray, placebo: np.ndarray,
                      noise: np.ndarray) -> np.ndarray:
    """Daily itch NRS (n, T): NRS0 Q/Q0 (1 - E_pbo) + noise, clipped to [0, 10]; noise 0 at day 0."""
    return np.clip(np.asarray(nrs0, float)[:, None] * itch_ratio * (1.0 - placebo) + noise, 0.0, 10.0)


def compute_weekly_mean(daily: np.ndarray, nrs0: np.ndarray, *, tail: np.ndarray | None = None,
                        columns: np.ndarray | None = None) -> np.ndarray:
    """Weekly mean (n, T) of the 7 daily values ending at each day; days before day 7 include the
    baseline week, whose daily values are taken as NRS0 (the baseline weekly mean).

    ``tail`` (n, 6): the daily values of the six days before column 0, for a run that continues
    from a saved state (then column 0 is a day like any other, not the baseline). ``columns``: only
    these columns of the result (n, len(columns)); ``daily`` then needs valid values only in the
    week ending at each of them.
    """
    daily = np.asarray(daily, float)
    n, t = daily.shape
    cols = np.arange(t) if columns is None else np.asarray(columns, dtype=np.intp)
    # the week ending at column c is pad[:, c:c + 7]; the seven values are added in day order, so a
    # column's mean is the same number whichever other columns are asked for
    pad = np.empty((n, NRS_WEEK - 1 + t))
    if tail is None:
        pad[:, :NRS_WEEK] = np.asarray(nrs0, float)[:, None]
        pad[:, NRS_WEEK:] = daily[:, 1:]
    else:
        pad[:, :NRS_WEEK - 1] = np.asarray(tail, float)
        pad[:, NRS_WEEK - 1:] = daily
    total = pad[:, cols]
    for k in range(1, NRS_WEEK):
        total = total + pad[:, cols + k]
    weekly = total / NRS_WEEK
    if tail is None:
        weekly[:, cols == 0] = np.asarray(nrs0, float)[:, None]
    return weekly


def compute_patient_endpoints(easi: np.ndarray, iga: np.ndarray, nrs_weekly: np.ndarray | None,
                              day: int) -> dict[str, np.ndarray]:
    """Patient-level responders at ``day`` against day 0 (arrays of shape (n,)).

    IGA-TS: IGA <= 1 and at least a 2-grade improvement. EASI-50/75/90: EASI <= (1 - x) EASI0.
    NRS4: >= 4-point improvement of the weekly mean; NaN where baseline NRS < 4 or not collected.
    """
    if not 0 < day < easi.shape[1]:
        raise InvalidInputError(f"day must be within 1-{easi.shape[1] - 1}; got {day}.")
    e0, e = easi[:, 0], easi[:, day]
    out = {
        "iga_ts": ((iga[:, day] <= 1) & (iga[:, 0] - iga[:, day] >= 2)).astype(float),
        "easi50": (e <= 0.5 * e0).astype(float),
        "easi75": (e <= 0.25 * e0).astype(float),
        "easi90": (e <= 0.10 * e0).astype(float),
        "easi_pct_change": 100.0 * (e - e0) / e0,
    }
    if nrs_weekly is not None:
        n0, n1 = nrs_weekly[:, 0], nrs_weekly[:, day]
        ok = np.isfinite(n0) & (n0 >= 4.0) & np.isfinite(n1)
        out["nrs4"] = np.where(ok, (n0 - n1 >= 4.0).astype(float), np.nan)
    return out
