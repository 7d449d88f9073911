"""The calibrated parameters, their priors, and the map onto model parameters.

Each calibrated quantity lives on an unconstrained scale (log for positive values, logit for
fractions) with a normal prior there, centred on the annotated value of the model's parameter
file (itself the model.md prior). The IGA cut-points must stay ordered (c1 < c2 < c3 = fixed),
so the prior is truncated to that region.

Second version (issue 12, the default: :func:`default_prior` = :func:`v2_prior`): 20 parameters
(``V2_PARAMETERS`` below, with the reason for each prior SD) for the flux-based topical PK, its
kinetics, the Hill exposure-response and the disease/observation model; the between-trial effect
is no longer a parameter but a fixed SD marginalised in the likelihood (likelihood.py).

First version (ABC-SMC, kept to read the first version's posterior files, which carry their own
prior): 13 model parameters (:func:`calibrated_parameters`, names of the first PK model such as
F_top, no longer in the model) plus three trial-level quantities (:func:`trial_parameters`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit

from dermsim._rng import SeedLike, as_generator
from dermsim.errors import InvalidInputError
from dermsim.model.parameters import ParameterSet, default_parameters


@dataclass(frozen=True)
class CalibratedParameter:
    """One calibrated quantity: model parameter ``model_name`` (its typical ``value`` or its IIV
    ``omega``), on scale ``transform`` with prior N(prior_mean, prior_sd) on that scale."""

    name: str
    model_name: str    # "" for a trial-level quantity that is not a model parameter
    field: str         # "value", "omega", "trial" (between-trial effect, not in the model) or
                       # "study" (log-ratio of model_name in arms of one design class, see eta_maxuse)
    transform: str     # "log", "logit" or "identity"
    prior_mean: float  # on the natural scale (the median of the prior)
    prior_sd: float    # on the transformed scale
    unit: str
    description: str
    upper: float | None = None  # natural-scale upper bound of the support (model validity)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Natural -> unconstrained."""
        if self.transform == "identity":
            return np.asarray(x, float)
        return np.log(x) if self.transform == "log" else logit(x)

    def backward(self, z: np.ndarray) -> np.ndarray:
        """Unconstrained -> natural."""
        if self.transform == "identity":
            return np.asarray(z, float)
        return np.exp(z) if self.transform == "log" else expit(z)


def _p(name: str, model_name: str, transform: str, sd: float, unit: str, description: str,
       field: str = "value", mean: float | None = None, upper: float | None = None) -> CalibratedParameter:
    base = default_parameters()[model_name]
    centre = (base.omega if field == "omega" else base.value) if mean is None else mean
    return CalibratedParameter(name=name, model_name=model_name, field=field, transform=transform,
                               prior_mean=float(centre), prior_sd=float(sd), unit=unit,
                               description=description, upper=upper)


CALIBRATION_TRIALS = ("true-ad1", "true-ad2")


def trial_effect_name(trial: str) -> str:
    return "xi_" + trial.replace("-", "_")


def trial_parameters() -> tuple[CalibratedParameter, ...]:
    """Between-trial heterogeneity (non-centred): trial k's responder logits are shifted by
    delta_k = trial_sd x xi_k, xi_k ~ N(0, 1). TRuE-AD1 and TRuE-AD2 share design and population
    yet differ beyond binomial noise (IGA-TS vehicle 15.1 vs 7.6 %, 0.75 % 50.0 vs 39.0 %), so a
    model without it cannot cover both; a new trial (TRuE-AD3) gets a fresh delta ~ N(0, trial_sd^2)."""
    sd = CalibratedParameter("trial_sd", "", "trial", "log", 0.25, 0.6, "logit", "between-trial SD of the "
                             "responder logit", upper=1.5)
    xis = tuple(CalibratedParameter(trial_effect_name(t), "", "trial", "identity", 0.0, 1.0, "-",
                                    f"standardised trial effect of {t}") for t in CALIBRATION_TRIALS)
    return (sd, *xis)


def calibrated_parameters() -> tuple[CalibratedParameter, ...]:
    """The 13 model parameters calibrated, in the fixed order of the posterior's columns."""
    return (
        _p("k_v", "k_v", "log", 0.7, "1/week", "vehicle (emollient) barrier repair rate, typical"),
        _p("tau_v", "tau_v", "log", 0.5, "week", "onset time of the vehicle effect"),
        _p("IC50_skin", "IC50_skin", "log", 1.0, "model units",
           "local IC50 (sets mu_u: typical local exposure index u = C_vs/IC50)"),
        _p("omega_u", "IC50_skin", "log", 0.4, "log-SD", "between-patient SD of the local exposure (omega_u)",
           field="omega", upper=3.0),
        _p("Imax", "Imax", "logit", 1.0, "fraction", "maximal JAK1/2 block of cytokine signalling"),
        _p("p_easi", "p_easi", "log", 0.3, "-", "EASI exponent on the severity ratio D/D0"),
        _p("iga_c1", "iga_c1", "log", 0.25, "EASI points", "IGA cut-point clear / almost clear"),
        _p("iga_c2", "iga_c2", "log", 0.25, "EASI points", "IGA cut-point almost clear / mild"),
        _p("iga_sigma_u", "iga_sigma_u", "log", 0.4, "log-scale SD", "IGA patient/rater offset SD"),
        _p("Pmax_itch", "Pmax_itch", "logit", 0.8, "fraction", "maximal expectation/emollient itch relief"),
        _p("psi", "psi", "logit", 1.0, "fraction", "direct neuronal share of the IL-31 block on itch"),
        _p("F_top", "F_top", "log", 0.5, "fraction", "topical bioavailability at 1.5 %, typical"),
        _p("gamma", "gamma", "logit", 0.7, "-", "strength exponent of absorbed dose (dose x F ~ s^gamma)"),
    )


@dataclass(frozen=True)
class Prior:
    """Truncated normal prior on the unconstrained vector (columns in ``parameters`` order)."""

    parameters: tuple[CalibratedParameter, ...]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def dim(self) -> int:
        return len(self.parameters)

    @property
    def mean(self) -> np.ndarray:
        return np.array([float(p.forward(np.array(p.prior_mean))) for p in self.parameters])

    @property
    def sd(self) -> np.ndarray:
        return np.array([p.prior_sd for p in self.parameters])

    def in_support(self, z: np.ndarray) -> np.ndarray:
        """Upper bounds hold (e.g. omega_u <= 3: parameter files accept log-SDs below 5 only) and
        the IGA cut-points stay ordered: c1 < c2 < c3 (c3 fixed in observation.toml)."""
        z = np.atleast_2d(z)
        ok = np.all(np.isfinite(z), axis=1)
        for j, p in enumerate(self.parameters):
            if p.upper is not None:
                ok &= p.backward(z[:, j]) <= p.upper
        names = self.names
        if "iga_c1" in names and "iga_c2" in names:
            c3 = default_parameters().value("iga_c3")
            c1 = np.exp(z[:, names.index("iga_c1")])
            c2 = np.exp(z[:, names.index("iga_c2")])
            ok &= (c1 < c2) & (c2 < c3)
        return ok

    def logpdf(self, z: np.ndarray) -> np.ndarray:
        """Log density up to the truncation constant (-inf outside the support)."""
        z = np.atleast_2d(z)
        lp = -0.5 * np.sum(((z - self.mean) / self.sd) ** 2, axis=1)
        return np.where(self.in_support(z), lp, -np.inf)

    def sample(self, n: int, seed: SeedLike) -> np.ndarray:
        """``n`` draws (n, dim) on the unconstrained scale (rejection for the truncation)."""
        rng = as_generator(seed)
        out = np.empty((0, self.dim))
        while out.shape[0] < n:
            z = self.mean + self.sd * rng.standard_normal((2 * n, self.dim))
            out = np.vstack([out, z[self.in_support(z)]])
        return out[:n]

    def to_natural(self, z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(z)
        return np.column_stack([p.backward(z[:, i]) for i, p in enumerate(self.parameters)])

    def to_unconstrained(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.column_stack([p.forward(x[:, i]) for i, p in enumerate(self.parameters)])

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": [p.to_dict() for p in self.parameters]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Prior:
        return cls(parameters=tuple(CalibratedParameter(**d) for d in data["parameters"]))


def first_version_prior() -> Prior:
    """The first version's prior (needs the first PK model's parameter names)."""
    return Prior(parameters=calibrated_parameters() + trial_parameters())


def default_prior() -> Prior:
    """The prior of the current calibration (second version)."""
    return v2_prior()


def apply_parameters(natural: np.ndarray, prior: Prior, base: ParameterSet | None = None,
                     design_class: str = "") -> ParameterSet:
    """The model's ParameterSet with one candidate's calibrated values (natural scale) applied.

    ``design_class`` (e.g. "maxuse"): also apply that class's study-level log-ratios (field
    "study", named ``eta_<class>``); the default "" is the phase 3 design, which every clinical
    prediction uses (see V2_PARAMETERS, eta_maxuse)."""
    x = np.asarray(natural, float).reshape(-1)
    if x.shape[0] != prior.dim:
        raise InvalidInputError(f"candidate must have {prior.dim} values ({', '.join(prior.names)}); "
                                f"got {x.shape[0]}.")
    base = default_parameters() if base is None else base
    # field "trial" (between-trial effects) is applied to arm summaries, not to the model
    values = {p.model_name: float(v) for p, v in zip(prior.parameters, x, strict=True) if p.field == "value"}
    omegas = {p.model_name: float(v) for p, v in zip(prior.parameters, x, strict=True) if p.field == "omega"}
    for p, v in zip(prior.parameters, x, strict=True):
        if p.field == "study" and design_class and p.name == f"eta_{design_class}":
            values[p.model_name] = values.get(p.model_name, base.value(p.model_name)) * float(np.exp(v))
    out = base.replace_values(**values)
    return out.replace_omegas(**omegas) if omegas else out


# --- second version (issue 12) ----------------------------------------------------------------
# Priors are centred on the annotated value of the model's parameter file (PKPD: pk.toml, jak.toml;
# REGIMEN: disease.toml, vehicle.toml), each of which cites its source; the log/logit-scale SDs and
# their reasons are given here. No pediatric outcome informs any of them.
V2_PARAMETERS: tuple[tuple[str, str, str, str, float, str, str], ...] = (
    # (name, model_name, field, transform, prior SD on that scale, unit, description and reason)
    ("Jmax", "Jmax", "value", "log", 0.7, "ug/cm2",
     "maximal absorbed drug per cm2 per application at 1.5 %; centre from the first version's typical F "
     "(pk.toml); SD 0.7: factor 2 either way covers phase 3 F 6.2 % vs maximum-use 2.5 %"),
    ("omega_J", "Jmax", "omega", "log", 0.4, "log-SD",
     "between-patient SD of Jmax; centre 0.9 (pk.toml); identified by the published Css and F SDs"),
    ("gamma", "gamma", "logit", "logit", 0.7, "-",
     "strength exponent of the flux (Css 23.8 vs 35.7 nM, Gong 2021); logit keeps it in (0, 1)"),
    ("L50", "L50", "value", "log", 0.7, "mg/cm2",
     "cream load giving half-maximal flux; centre 2 mg/cm2 (pk.toml, FTU 1.75 mg/cm2); identified by "
     "phase 3 vs maximum-use F"),
    ("theta_damage", "theta_damage", "value", "log", 0.7, "-",
     "exponent of the flux on barrier damage (Gong 2021 covariates; maximum-use >= 40 % BSA subgroup)"),
    ("k_a", "k_a", "value", "log", 0.5, "1/h", "absorption into the skin; sets tmax (4 h, Bissonnette 2022)"),
    ("f_fast", "f_fast", "value", "logit", 1.0, "fraction", "fast-route fraction; sets Cmax/Cmin (2.72)"),
    ("k_sv", "k_sv", "value", "log", 0.5, "1/h", "reservoir release; sets the apparent t1/2 (116 h)"),
    ("hill", "hill", "value", "log", 0.5, "-",
     "Hill coefficient of the exposure-response (jak.toml: median 1.5, log-SD 0.5, model.md 2.11)"),
    ("IC50_skin", "IC50_skin", "value", "log", 1.0, "nM",
     "local IC50 (only u = C_vs/IC50 is identifiable); wide, as in the first version"),
    ("omega_u", "IC50_skin", "omega", "log", 0.4, "log-SD", "between-patient SD of the local exposure index"),
    ("Imax", "Imax", "value", "logit", 1.0, "fraction", "maximal JAK1/2 block (model.md 2.2: 0.9-0.99)"),
    ("k_v", "k_v", "value", "log", 0.7, "1/week", "vehicle (emollient) barrier repair rate"),
    ("tau_v", "tau_v", "value", "log", 0.5, "week", "onset time of the vehicle effect"),
    ("p_easi", "p_easi", "value", "log", 0.3, "-", "EASI exponent on the severity ratio (model.md 2.4: 1-2)"),
    ("iga_c1", "iga_c1", "value", "log", 0.25, "EASI points", "IGA cut-point clear / almost clear"),
    ("iga_c2", "iga_c2", "value", "log", 0.25, "EASI points", "IGA cut-point almost clear / mild"),
    ("iga_sigma_u", "iga_sigma_u", "value", "log", 0.4, "log-scale SD", "IGA patient/rater offset SD"),
    ("Pmax_itch", "Pmax_itch", "value", "logit", 0.8, "fraction",
     "maximal expectation/emollient itch relief"),
    ("psi", "psi", "value", "logit", 1.0, "fraction", "direct neuronal share of the IL-31 block on itch"),
    ("eta_maxuse", "Jmax", "study", "identity", 1.0, "log-ratio",
     "absorption (Jmax) of the maximum-use design relative to phase 3, log scale. Why: at nearly the same "
     "cream load (FTU rule 1.75 vs measured 1.53-1.71 mg/cm2) phase 3 F was 6.22 % (Gong 2021) and the "
     "adult maximum-use trial's 1.49 % at 25-40 % BSA (Bissonnette 2022 Table 3), with Css per cm2 about "
     "3 times higher in phase 3: no per-patient term (load, strength, damage, area) can give both, so the "
     "two designs are not exchangeable for absorption (population, how lesions and amounts were defined, "
     "sampling). Prior N(0, 1) centred on no difference. Phase 3-design predictions (TRuE-AD3, the "
     "clinic) use Jmax; maximum-use-design predictions (the pediatric maximum-use trial) use "
     "Jmax exp(eta_maxuse)"),
)
# Not calibrated in v2, and why: the disease-memory constants (tau_mem, m_mem; REGIMEN) act only
# after stopping treatment, and no calibration target observes an off-treatment period (the
# long-term as-needed results are held out), so they keep their literature priors (disease.toml:
# Berth-Jones 2003, Breneman 2008). Itch time-course weights (k_Q, q31, q2), phi_partial, EASI noise
# and systemic CL/V as in the first version (no per-study data that identify them).
V2_NOT_CALIBRATED = ("tau_mem", "m_mem", "k_Q", "q31", "q2", "phi_partial", "sigma_easi", "CL", "V",
                     "age_pen_child")


def v2_parameters() -> tuple[CalibratedParameter, ...]:
    """The second version's calibrated parameters, in the fixed order of the posterior's columns."""
    params = default_parameters()
    out = []
    for name, model_name, field, transform, sd, unit, description in V2_PARAMETERS:
        base = params[model_name]
        if field == "study":
            out.append(CalibratedParameter(name=name, model_name=model_name, field="study",
                                           transform="identity", prior_mean=0.0, prior_sd=float(sd),
                                           unit=unit, description=description))
            continue
        centre = base.omega if field == "omega" else base.value
        upper = 3.0 if field == "omega" else (1.0 if transform == "logit" else None)
        out.append(CalibratedParameter(
            name=name, model_name=model_name, field="omega" if field == "omega" else "value",
            transform="logit" if transform == "logit" else "log", prior_mean=float(centre),
            prior_sd=float(sd),
            unit=unit, description=description, upper=upper if field == "omega" else None))
    return tuple(out)


def v2_prior() -> Prior:
    return Prior(parameters=v2_parameters())
