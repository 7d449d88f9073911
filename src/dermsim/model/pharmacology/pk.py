"""Topical PK of ruxolitinib cream, second version (time in hours; amounts in mg; nM).

Absorption is a flux through the treated skin, computed per application (model.md 2.11):

    L        = 1000 grams / area_cm2                      cream load, mg of cream per cm2
    absorbed = min(dose, area_cm2 Jmax_i (s/s_ref)^gamma L/(L + L50)
                          (damage/damage_ref)^theta_damage  age_term)

``absorbed`` (mg) is what enters the absorbable pathway from one application; the rest of the
cream is rubbed off, washed off or shed and never reaches the viable skin. So

* more cream per cm2 or a higher strength never lowers the absorbed amount (each factor is
  non-decreasing in L and s, and so is the cap), but F = absorbed/dose FALLS as the load per cm2
  rises (L/(L + L50) grows slower than L) and as strength rises when gamma < 1;
* the treated area acts only through area x flux: a larger area absorbs more in proportion, at
  the same F. The first version's exponent of F on %BSA is gone: it made the local exposure and
  F of every cm2 depend on how much other skin was treated, and it put no limit on exposure per
  cm2 at high loads. If the data show higher F in larger treated areas (the >= 40 % BSA subgroup
  of the adult maximum-use trial), the mechanism is the damage term: patients with larger areas
  have more damaged barrier (1 - B from the disease core, at the time of the application), which
  is the disease-severity covariate of Gong 2021 (baseline IGA);
* ``damage`` is the barrier damage 1 - B passed by the caller. The integrator passes the
  patient's BASELINE damage (like Gong 2021's covariate, baseline IGA), not 1 - B at each
  application. Why: (i) no published data show how ruxolitinib absorption changes as lesions
  heal; (ii) with the fast-route kinetics the engine's barrier state differs from LSODA's by up
  to ~5e-4, and since (1 - B) is small in healing skin, feeding it back into the input moved
  plasma by ~0.1-1 %, beyond the first model's accuracy bound (rtol 1e-3) and making PK depend
  on the disease solver. With baseline damage the PK stays exact and independent of it. A
  regimen that restarts after remission can pass the damage at the restart;
* ``age_term`` is a penetration multiplier for children (< ``age_pen_max_y``), a prior from
  non-trial skin literature centred on no difference (pk.toml), never fitted to pediatric data;
* where a regimen gives no amount, each patient applies the usual load of its age
  (``usual_g_per_cm2``): the fingertip-unit rule (``g_per_cm2``, near the 1.3-1.7 mg/cm2 that
  adults and adolescents used in their maximum-use trial) from ``load_child_max_y`` years on, and
  ``g_per_cm2_child`` (0.81 mg/cm2, the amount children 2-11 used in theirs) below. How much cream
  a patient puts on each cm2 changes the flux (L/(L + L50)), so it is part of the patient, not of
  the skin: the same skin parameters hold for every age;
* Jmax_i carries the between-patient variability of absorption (omega calibrated to the
  published SDs of Css and F).

After absorption the drug follows a linear 4-compartment system (model.md 2.1), plus an
effect-site link:

0. ``A_surf`` absorbable drug in/on the outer skin; each application adds ``absorbed``;
1. ``A_sc``  stratum-corneum reservoir (slow; the flip-flop terminal phase);
2. ``A_vs``  viable epidermis/dermis, where the local concentration is;
3. ``A_p``   central plasma compartment;
4. ``A_e``   effect-site equivalent of A_vs (a first-order lag, not a mass: Sheiner 1979).

    dA_surf/dt = -k_a A_surf
    dA_sc/dt   =  (1 - f_fast) k_a A_surf - k_sv A_sc
    dA_vs/dt   =  f_fast k_a A_surf + k_sv A_sc - k_vs A_vs
    dA_p/dt    =  k_vs A_vs - (CL/V) A_p
    dA_e/dt    =  k_e0 (A_vs - A_e)

Why the effect-site lag: the published kinetics (Cmax/Cmin 2.72 in plasma with tmax 4 h and a
116 h terminal phase) need a fast route that makes A_vs swing about 12-fold within a day. Driving
the JAK block directly by A_vs made the block swing between ~0.05 and ~0.95 every few hours; no
data show that (the disease responds over days), and the engine's 8 h steps could not follow it
(EASI error vs LSODA up to 0.23, bound 0.05). The lag (k_e0 prior 0.15/h, t1/2 4.6 h: the
JAK-STAT-dependent transcription that the cytokine signalling integrates) keeps the mean exposure
(the mean of A_e equals the mean of A_vs) and brings the engine back within its bound (0.03).

Rates are constant per patient, so the engine propagates the system exactly between dose events;
the input enters as a jump at each application. Everything absorbed reaches plasma, so the
average steady-state plasma concentration of a constant daily pattern is absorbed per day / CL.

Local exposure u = unbound viable-skin concentration / IC50_skin = fu A_e / (area h_vs) / IC50,
with A_e the effect-site lag of A_vs. A_vs is proportional to area x flux, so u depends on the
flux per area (strength, load, damage), not on the size of the treated area. The first version
added the plasma term Cp/IC50_wb; it is dropped because it made local exposure depend on the
treated area, and at 1.5 % it was about 1/30 of the local term (Cp ~ 36 nM vs 281 nM, u ~ 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from dermsim.engine import compute_transition, propagate
from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.regimen import Regimen

N_PK = 5
SURF, SC, VS, PLASMA, EFF = range(N_PK)
ADULT_WEIGHT_KG = 70.0
MIN_DAMAGE = 1e-6  # damage 0 (a perfect barrier) would give 0**theta; keep the term finite


@dataclass(frozen=True)
class PatientPK:
    """Per-patient PK quantities (arrays of shape (n,)); the dose is not a per-patient constant:
    call :func:`compute_absorbed_mg` at each application."""

    area_cm2: np.ndarray         # treated area
    grams: np.ndarray            # default cream per application (regimen grams or the usual load)
    usual_g_per_cm2: np.ndarray  # cream per cm2 per application where a regimen gives no amount
    Jmax_mg_cm2: np.ndarray      # maximal absorbed drug per cm2 per application at s_ref, damage_ref
    gamma: np.ndarray            # strength exponent of the flux
    s_ref: np.ndarray            # reference strength (%)
    L50_mg_cm2: np.ndarray       # cream load giving half the maximal flux
    theta_damage: np.ndarray     # exponent of the flux on barrier damage / damage_ref
    damage_ref: np.ndarray
    age_term: np.ndarray         # penetration multiplier for age (1 = adult skin)
    k_a: np.ndarray
    f_fast: np.ndarray
    k_sv: np.ndarray
    k_vs: np.ndarray
    k_e0: np.ndarray             # effect-site link of the local exposure
    CL_L_h: np.ndarray
    V_L: np.ndarray
    u_per_mg_vs: np.ndarray      # local exposure index per mg in viable skin
    nM_per_mg_p: np.ndarray      # plasma nM per mg in plasma

    @property
    def n(self) -> int:
        return int(self.area_cm2.shape[0])

    def select(self, idx: slice | np.ndarray) -> PatientPK:
        """The same quantities for a subset of patients."""
        return replace(self, **{f.name: getattr(self, f.name)[idx] for f in fields(self)})


def compute_treated_area_cm2(bsa_m2: np.ndarray, affected_pct: np.ndarray) -> np.ndarray:
    """Treated area: affected %BSA of the patient's BSA (TRuE-AD: areas identified at baseline)."""
    return np.asarray(bsa_m2, float) * 1e4 * np.asarray(affected_pct, float) / 100.0


def compute_usual_load_g_per_cm2(age_y: np.ndarray, adult_g_per_cm2: np.ndarray | float,
                                 child_g_per_cm2: np.ndarray | float,
                                 child_max_y: np.ndarray | float) -> np.ndarray:
    """Cream per cm2 per application a patient applies when the regimen gives no amount: the
    child load below ``child_max_y`` years, the fingertip-unit rule from then on (pk.toml)."""
    return np.where(np.asarray(age_y, float) < child_max_y, child_g_per_cm2, adult_g_per_cm2).astype(float)


def compute_grams_per_application(regimen: Regimen, area_cm2: np.ndarray,
                                  g_per_cm2_default: np.ndarray | float) -> np.ndarray:
    """Cream per application (g): the regimen's grams where it gives them, otherwise area x
    g/cm2 (the regimen's, or each patient's usual load ``g_per_cm2_default``), times adherence."""
    area = np.asarray(area_cm2, float)
    if regimen.grams_per_application is not None:
        grams = np.full(area.shape, regimen.grams_per_application)
    else:
        g_cm2 = regimen.g_per_cm2 if regimen.g_per_cm2 is not None else g_per_cm2_default
        grams = area * g_cm2
    return grams * regimen.adherence


def compute_dose_mg(grams: np.ndarray, strength_pct: float | np.ndarray) -> np.ndarray:
    """Drug applied (mg): grams x strength (1 % = 10 mg/g)."""
    return np.asarray(grams, float) * np.asarray(strength_pct, float) * 10.0


def compute_age_term(age_y: np.ndarray, child_multiplier: float, max_age_y: float) -> np.ndarray:
    """Penetration multiplier: ``child_multiplier`` below ``max_age_y`` years, 1 from then on."""
    return np.where(np.asarray(age_y, float) < max_age_y, child_multiplier, 1.0)


def derive_patient_pk(pk: dict[str, np.ndarray], regimen: Regimen, *, weight_kg: np.ndarray,
                      bsa_m2: np.ndarray, affected_pct: np.ndarray, age_y: np.ndarray) -> PatientPK:
    """Patient PK from individual parameter values ``pk`` (see pk.toml) and covariates.

    ``regimen`` only sets the default cream amount per application (``PatientPK.grams``).
    """
    weight = np.asarray(weight_kg, float)
    if np.any(weight <= 0):
        raise InvalidInputError(f"weight_kg must be > 0; got {weight.min():g}.")
    area = compute_treated_area_cm2(bsa_m2, affected_pct)
    if np.any(area <= 0):
        raise InvalidInputError("affected_pct and bsa_m2 must give a treated area > 0 cm2; got 0.")
    n = area.shape[0]
    usual = np.broadcast_to(compute_usual_load_g_per_cm2(age_y, pk["g_per_cm2"], pk["g_per_cm2_child"],
                                                         pk["load_child_max_y"]), area.shape).copy()
    grams = compute_grams_per_application(regimen, area, usual)
    CL = pk["CL"] * (weight / ADULT_WEIGHT_KG) ** pk["CL_wt_exp"]
    V = pk["V"] * (weight / ADULT_WEIGHT_KG) ** pk["V_wt_exp"]
    mw = pk["MW"]
    nm_per_mg_p = 1e6 / (mw * V)                            # mg / L -> nM
    vs_volume_L = area * pk["h_vs"] * 1e-3                  # cm3 -> L
    u_vs = pk["fu_skin"] * 1e6 / (mw * vs_volume_L) / pk["IC50_skin"]
    age_term = compute_age_term(age_y, float(pk["age_pen_child"][0]), float(pk["age_pen_max_y"][0]))

    def full(name: str) -> np.ndarray:
        return np.broadcast_to(np.asarray(pk[name], float), (n,)).copy()

    return PatientPK(area_cm2=area, grams=grams, usual_g_per_cm2=usual, Jmax_mg_cm2=full("Jmax") * 1e-3,
                     gamma=full("gamma"), s_ref=full("s_ref"), L50_mg_cm2=full("L50"),
                     theta_damage=full("theta_damage"), damage_ref=full("damage_ref"),
                     age_term=np.asarray(age_term, float), k_a=full("k_a"), f_fast=full("f_fast"),
                     k_sv=full("k_sv"), k_vs=full("k_vs"), k_e0=full("k_e0"),
                     CL_L_h=CL, V_L=V, u_per_mg_vs=u_vs, nM_per_mg_p=nm_per_mg_p)


def compute_flux_mg(p: PatientPK, grams: np.ndarray | float, strength_pct: float | np.ndarray,
                    damage: np.ndarray | float) -> np.ndarray:
    """The flux term of one application before the cap at the dose (mg, (n,)); proportional to
    the patient's Jmax (used where the Jmax variability is integrated analytically)."""
    g = np.asarray(grams, float)
    s = np.asarray(strength_pct, float)
    if np.any(g < 0) or np.any(s < 0):
        raise InvalidInputError("grams and strength_pct must be >= 0; got a negative value.")
    load = g * 1000.0 / p.area_cm2                           # mg cream / cm2
    dmg = np.clip(np.asarray(damage, float), MIN_DAMAGE, 1.0)
    per_cm2 = (p.Jmax_mg_cm2 * (s / p.s_ref) ** p.gamma * load / (load + p.L50_mg_cm2)
               * (dmg / p.damage_ref) ** p.theta_damage * p.age_term)
    return per_cm2 * p.area_cm2


def compute_absorbed_mg(p: PatientPK, grams: np.ndarray | float, strength_pct: float | np.ndarray,
                        damage: np.ndarray | float) -> np.ndarray:
    """Drug (mg) entering the absorbable pathway from one application, per patient (n,).

    ``grams`` cream applied to the treated area, ``strength_pct`` cream strength, ``damage``
    barrier damage 1 - B (clipped to [1e-6, 1]). Capped at the applied dose, so no mass is
    created. Vehicle (strength 0) and no cream give 0.
    """
    return np.minimum(compute_flux_mg(p, grams, strength_pct, damage), compute_dose_mg(grams, strength_pct))


def compute_css_from_absorbed_nM(p: PatientPK, absorbed_mg_per_day: np.ndarray) -> np.ndarray:
    """Average steady-state plasma concentration (nM) of a daily absorbed amount (mg/day):
    absorbed per day / CL (exact for linear PK: all absorbed drug reaches plasma)."""
    return np.asarray(absorbed_mg_per_day, float) / 24.0 / p.CL_L_h * p.nM_per_mg_p * p.V_L


def compute_bioavailability(p: PatientPK, grams: np.ndarray | float, strength_pct: float | np.ndarray,
                            damage: np.ndarray | float) -> np.ndarray:
    """F = absorbed / applied dose of one application (0 where nothing is applied)."""
    dose = compute_dose_mg(np.broadcast_to(np.asarray(grams, float), (p.n,)), strength_pct)
    absorbed = compute_absorbed_mg(p, grams, strength_pct, damage)
    return np.divide(absorbed, dose, out=np.zeros(p.n), where=dose > 0)


def compute_rate_matrix(p: PatientPK) -> np.ndarray:
    """Rate matrix K (5, 5, n) of dA/dt = K A, in 1/h."""
    n = p.n
    # dtype follows the inputs: float arrays in the engine, sympy objects when model.equations
    # traces these equations for the SBML export
    K = np.zeros((N_PK, N_PK, n), dtype=np.result_type(p.k_a, p.CL_L_h))
    K[SURF, SURF] = -p.k_a
    K[SC, SURF] = (1.0 - p.f_fast) * p.k_a
    K[SC, SC] = -p.k_sv
    K[VS, SURF] = p.f_fast * p.k_a
    K[VS, SC] = p.k_sv
    K[VS, VS] = -p.k_vs
    K[PLASMA, VS] = p.k_vs
    K[PLASMA, PLASMA] = -p.CL_L_h / p.V_L
    K[EFF, VS] = p.k_e0
    K[EFF, EFF] = -p.k_e0
    return K


def compute_pk_rhs(amounts: np.ndarray, p: PatientPK) -> np.ndarray:
    """dA/dt (5, n) in mg/h: the same equations as :func:`compute_rate_matrix`, for references."""
    K = compute_rate_matrix(p)
    return np.einsum("ijn,jn->in", K, amounts)


def compute_exposure_rows(phi: np.ndarray, p: PatientPK) -> np.ndarray:
    """Row (5, n) mapping amounts to u after the transition ``phi`` (5, 5, n): u = row . A."""
    return p.u_per_mg_vs * phi[EFF]


def compute_local_exposure(amounts: np.ndarray, p: PatientPK) -> np.ndarray:
    """Local exposure index u = C_vs,unbound / IC50_skin at the effect site (dimensionless)."""
    return p.u_per_mg_vs * amounts[EFF]


def compute_plasma_nM(amounts: np.ndarray, p: PatientPK) -> np.ndarray:
    return p.nM_per_mg_p * amounts[PLASMA]


def compute_css_nM(p: PatientPK, grams: np.ndarray | float, strength_pct: float | np.ndarray,
                   applications_per_day: int | np.ndarray, damage: np.ndarray | float) -> np.ndarray:
    """Average steady-state plasma concentration (nM) of a constant daily pattern:
    absorbed per day / CL (exact for linear PK: all absorbed drug reaches plasma)."""
    per_day = compute_absorbed_mg(p, grams, strength_pct, damage) * np.asarray(applications_per_day, float)
    return compute_css_from_absorbed_nM(p, per_day)


def compute_css_local_u(p: PatientPK, grams: np.ndarray | float, strength_pct: float | np.ndarray,
                        applications_per_day: int | np.ndarray, damage: np.ndarray | float) -> np.ndarray:
    """Average steady-state local exposure index u of a constant daily pattern (mass balance: the
    mean amount in viable skin is the daily input / k_vs; the effect-site lag keeps the mean)."""
    per_h = (compute_absorbed_mg(p, grams, strength_pct, damage)
             * np.asarray(applications_per_day, float) / 24.0)
    return per_h / p.k_vs * p.u_per_mg_vs


def _steady_state_day(p: PatientPK, K: np.ndarray, times: np.ndarray,
                      dt_h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plasma over one steady-state day of unit applications at ``times`` (h, multiples of dt_h):
    (conc (steps, n) in nM per mg absorbed per application, time after midnight of each value,
    the state at the end of the day)."""
    n = p.n
    steps_per_day = round(24.0 / dt_h)
    dose_steps = set(np.round(times / dt_h).astype(int).tolist())
    phi_dt = compute_transition(K, dt_h)
    # Periodic steady state at the start of the day: x0 = Phi(24) x0 + sum_k Phi(24 - t_k) e_surf.
    phi_day = compute_transition(K, 24.0)
    rhs = np.zeros((N_PK, n))
    for t in times:
        rhs += compute_transition(K, 24.0 - t)[:, SURF, :]
    a = np.moveaxis(np.eye(N_PK)[:, :, None] - phi_day, -1, 0)       # (n, 4, 4)
    x = np.linalg.solve(a, np.moveaxis(rhs, -1, 0)[..., None])[..., 0].T
    conc = np.empty((steps_per_day, n))
    for k in range(steps_per_day):
        if k in dose_steps:
            x[SURF] += 1.0
        x = propagate(phi_dt, x)
        conc[k] = p.nM_per_mg_p * x[PLASMA]
    return conc, (np.arange(steps_per_day) + 1) * dt_h, x


def compute_steady_state_day_shape(p: PatientPK, application_times_h: Sequence[float] = (0.0, 12.0), *,
                                   dt_h: float = 0.25) -> np.ndarray:
    """Plasma over a steady-state day relative to its daily mean, per patient ((24/dt_h, n), each
    column averaging 1): Css x shape[k] is the level (k + 1) dt_h hours after midnight. Linear PK
    with equal applications: the shape does not depend on the amount absorbed."""
    times = np.asarray(sorted(float(t) for t in application_times_h))
    if times.size == 0 or times[0] < 0 or times[-1] >= 24.0 or not np.allclose(
            np.round(times / dt_h) * dt_h, times):
        raise InvalidInputError(f"application_times_h must lie within [0, 24) on a {dt_h:g} h grid; "
                                f"got {tuple(times)}.")
    conc, _, _ = _steady_state_day(p, compute_rate_matrix(p), times, dt_h)
    return conc / conc.mean(axis=0)


def compute_kinetic_summaries(p: PatientPK, application_times_h: Sequence[float] = (0.0, 12.0), *,
                              dt_h: float = 0.25, washout_window_h: tuple[float, float] = (24.0, 96.0)
                              ) -> dict[str, np.ndarray]:
    """Apparent kinetics at steady state of a constant daily pattern, per patient (n,):

    * ``cmax_cmin``: Cmax / Cmin of plasma over the 24 h steady-state day;
    * ``tmax_h``: time of Cmax after the application that precedes it;
    * ``t_half_h``: apparent half-life, log-linear least squares of plasma over
      ``washout_window_h`` hours after the last application of a steady-state day (the flip-flop
      terminal phase, as a maximum-use trial estimates it from post-dose samples).

    The shape does not depend on the amount absorbed (linear PK, equal applications), so a unit
    input is used. Vectorized over patients (or particles): build ``p`` with one row each.
    Application times must be multiples of ``dt_h``.
    """
    times = np.asarray(sorted(float(t) for t in application_times_h))
    if times.size == 0 or times[0] < 0 or times[-1] >= 24.0:
        raise InvalidInputError(f"application_times_h must lie within [0, 24); got {tuple(times)}.")
    steps_per_day = round(24.0 / dt_h)
    dose_steps = np.round(times / dt_h).astype(int)
    if not np.allclose(dose_steps * dt_h, times) or abs(steps_per_day * dt_h - 24.0) > 1e-9:
        raise InvalidInputError(
            f"application_times_h must be multiples of dt_h={dt_h:g}; got {tuple(times)}.")
    lo, hi = washout_window_h
    if not 0 <= lo < hi:
        raise InvalidInputError(
            f"washout_window_h must be (start, end) with 0 <= start < end; got {washout_window_h}.")
    K = compute_rate_matrix(p)
    n = p.n
    conc, t_grid, x = _steady_state_day(p, K, times, dt_h)
    last_dose_t = np.full(t_grid.shape[0], times[-1] - 24.0)
    for t in times:
        last_dose_t[t_grid > t] = t
    kmax = np.argmax(conc, axis=0)
    cmax = conc[kmax, np.arange(n)]
    cmin = conc.min(axis=0)
    tmax = t_grid[kmax] - last_dose_t[kmax]
    # washout: from the end of the day (24 h) without further doses
    since_last = 24.0 - times[-1]
    sample_t = np.arange(lo, hi + 1e-9, 4.0)                         # every 4 h in the window
    logs = np.empty((sample_t.size, n))
    t_now = since_last
    for j, ts in enumerate(sample_t):
        if ts > t_now:
            x = propagate(compute_transition(K, ts - t_now), x)
            t_now = ts
        elif ts < t_now:
            raise InvalidInputError(f"washout_window_h must start at or after the end of the day "
                                    f"({since_last:g} h after the last application); got {washout_window_h}.")
        logs[j] = np.log(np.maximum(p.nM_per_mg_p * x[PLASMA], 1e-300))
    tc = sample_t - sample_t.mean()
    slope = (tc[:, None] * (logs - logs.mean(axis=0))).sum(axis=0) / (tc ** 2).sum()
    t_half = np.where(slope < 0, np.log(2.0) / np.maximum(-slope, 1e-300), np.inf)
    return {"cmax_cmin": cmax / cmin, "tmax_h": tmax, "t_half_h": t_half}
