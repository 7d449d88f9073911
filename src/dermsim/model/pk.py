"""Topical PK of ruxolitinib cream (time in hours; amounts in mg; concentrations in nM).

States (rows of the engine's state array), model.md 2.1:

0. ``A_surf`` cream on the skin surface; every application adds ``dose_mg``;
1. ``A_sc``  stratum-corneum reservoir (slow, gives the flip-flop terminal phase);
2. ``A_vs``  viable epidermis/dermis, the local effect site;
3. ``A_p``   central plasma compartment.

dA_surf/dt = -k_a A_surf
dA_sc/dt   =  F (1 - f_fast) k_a A_surf - k_sv A_sc
dA_vs/dt   =  F f_fast k_a A_surf + k_sv A_sc - k_vs A_vs
dA_p/dt    =  k_vs A_vs - (CL/V) A_p

Deviation from model.md, and why: the design writes the surface split as k_pen, k_rem and f_in(s);
here F (the fraction of the applied dose that reaches plasma, the quantity Gong 2021 reports and
calibration targets) is the parameter, F = F_top (s/s_ref)^(gamma-1) x covariates, capped at 1 so
that no mass is created. Only F and k_a = k_pen + k_rem are identifiable from plasma data, and the
two forms are otherwise the same model. A parallel fast route (f_fast) was added, as the design
allows, so that Cmax/Cmin can be calibrated independently of the slow terminal phase.

The system is linear with per-patient constant rates (the barrier covariate uses the baseline
barrier, like the baseline-IGA covariate of Gong 2021), so the engine propagates it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dermsim.errors import InvalidInputError
from dermsim.model.regimen import Regimen

N_PK = 4
SURF, SC, VS, PLASMA = range(N_PK)
ADULT_WEIGHT_KG = 70.0


@dataclass(frozen=True)
class PatientPK:
    """Per-patient PK quantities (arrays of shape (n,)) for one regimen."""

    dose_mg: np.ndarray          # per application
    grams: np.ndarray            # cream per application
    area_cm2: np.ndarray         # treated area
    F: np.ndarray                # fraction of applied dose reaching plasma
    k_a: np.ndarray
    f_fast: np.ndarray
    k_sv: np.ndarray
    k_vs: np.ndarray
    CL_L_h: np.ndarray
    V_L: np.ndarray
    u_per_mg_vs: np.ndarray      # local index per mg in viable skin
    u_per_mg_p: np.ndarray       # systemic contribution per mg in plasma
    nM_per_mg_p: np.ndarray      # plasma nM per mg in plasma
    applications_per_day: int

    @property
    def n(self) -> int:
        return int(self.F.shape[0])


def compute_treated_area_cm2(bsa_m2: np.ndarray, affected_pct: np.ndarray) -> np.ndarray:
    """Treated area: affected %BSA of the patient's BSA (TRuE-AD: areas identified at baseline)."""
    return np.asarray(bsa_m2, float) * 1e4 * np.asarray(affected_pct, float) / 100.0


def compute_grams_per_application(regimen: Regimen, area_cm2: np.ndarray,
                                  g_per_cm2_default: float) -> np.ndarray:
    """Cream per application (g): as given, or the FTU rule (area x g/cm2), times adherence."""
    area = np.asarray(area_cm2, float)
    if regimen.grams_per_application is not None:
        grams = np.full(area.shape, regimen.grams_per_application)
    else:
        g_cm2 = regimen.g_per_cm2 if regimen.g_per_cm2 is not None else g_per_cm2_default
        grams = area * g_cm2
    return grams * regimen.adherence


def compute_dose_mg(regimen: Regimen, area_cm2: np.ndarray, g_per_cm2_default: float) -> np.ndarray:
    """Drug per application: strength (mg/g) x grams."""
    return regimen.strength_mg_per_g * compute_grams_per_application(regimen, area_cm2, g_per_cm2_default)


def derive_patient_pk(pk: dict[str, np.ndarray], regimen: Regimen, *, weight_kg: np.ndarray,
                      bsa_m2: np.ndarray, affected_pct: np.ndarray, age_y: np.ndarray,
                      barrier0: np.ndarray) -> PatientPK:
    """Patient PK from individual parameter values ``pk`` (see pk.toml) and covariates."""
    weight = np.asarray(weight_kg, float)
    if np.any(weight <= 0):
        raise InvalidInputError(f"weight_kg must be > 0; got {weight.min():g}.")
    area = compute_treated_area_cm2(bsa_m2, affected_pct)
    if np.any(area <= 0):
        raise InvalidInputError("affected_pct and bsa_m2 must give a treated area > 0 cm2; got 0.")
    grams = compute_grams_per_application(regimen, area, float(pk["g_per_cm2"][0]))
    dose = regimen.strength_mg_per_g * grams
    s = max(regimen.strength_pct, 1e-12)  # vehicle: dose is 0, F only needs to be finite
    damage = np.clip(1.0 - np.asarray(barrier0, float), 1e-6, 1.0)
    F = (pk["F_top"] * (s / pk["s_ref"]) ** (pk["gamma"] - 1.0)
         * (np.asarray(affected_pct, float) / 10.0) ** pk["theta_bsa"]
         * (damage / pk["damage_ref"]) ** pk["theta_barrier"]
         * np.where(np.asarray(age_y, float) < 6.0, pk["F_child_2_6"], 1.0))
    F = np.minimum(F, 1.0)
    CL = pk["CL"] * (weight / ADULT_WEIGHT_KG) ** pk["CL_wt_exp"]
    V = pk["V"] * (weight / ADULT_WEIGHT_KG) ** pk["V_wt_exp"]
    mw = pk["MW"]
    nm_per_mg_p = 1e6 / (mw * V)                            # mg / L -> nM
    vs_volume_L = area * pk["h_vs"] * 1e-3                  # cm3 -> L
    u_vs = pk["fu_skin"] * 1e6 / (mw * vs_volume_L) / pk["IC50_skin"]
    u_p = nm_per_mg_p / pk["IC50_wb"]
    return PatientPK(dose_mg=dose, grams=grams, area_cm2=area, F=F, k_a=pk["k_a"], f_fast=pk["f_fast"],
                     k_sv=pk["k_sv"], k_vs=pk["k_vs"], CL_L_h=CL, V_L=V, u_per_mg_vs=u_vs,
                     u_per_mg_p=u_p, nM_per_mg_p=nm_per_mg_p,
                     applications_per_day=regimen.applications_per_day)


def compute_rate_matrix(p: PatientPK) -> np.ndarray:
    """Rate matrix K (4, 4, n) of dA/dt = K A, in 1/h."""
    n = p.n
    K = np.zeros((N_PK, N_PK, n))
    K[SURF, SURF] = -p.k_a
    K[SC, SURF] = p.F * (1.0 - p.f_fast) * p.k_a
    K[SC, SC] = -p.k_sv
    K[VS, SURF] = p.F * p.f_fast * p.k_a
    K[VS, SC] = p.k_sv
    K[VS, VS] = -p.k_vs
    K[PLASMA, VS] = p.k_vs
    K[PLASMA, PLASMA] = -p.CL_L_h / p.V_L
    return K


def compute_pk_rhs(amounts: np.ndarray, p: PatientPK) -> np.ndarray:
    """dA/dt (4, n) in mg/h: the same equations as :func:`compute_rate_matrix`, for references."""
    K = compute_rate_matrix(p)
    return np.einsum("ijn,jn->in", K, amounts)


def compute_local_exposure(amounts: np.ndarray, p: PatientPK) -> np.ndarray:
    """Local exposure index u = C_vs,unbound/IC50_skin + C_p/IC50_wb (dimensionless)."""
    return p.u_per_mg_vs * amounts[VS] + p.u_per_mg_p * amounts[PLASMA]


def compute_plasma_nM(amounts: np.ndarray, p: PatientPK) -> np.ndarray:
    return p.nM_per_mg_p * amounts[PLASMA]


def compute_css_nM(p: PatientPK) -> np.ndarray:
    """Average steady-state plasma concentration (nM): F x daily dose / CL (exact for linear PK)."""
    rate_mg_h = p.F * p.dose_mg * p.applications_per_day / 24.0
    return rate_mg_h / p.CL_L_h * p.nM_per_mg_p * p.V_L
