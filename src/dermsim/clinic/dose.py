"""Dose and exposure planner: for one patient, how much cream, what the label allows, and what
steady-state blood level that gives against the 281 nM threshold.

Every number comes from the evidence library (label limits, FTU tables, Lund-Browder chart,
threshold), the growth reference (age-typical height and weight) or the PK model (copies of the
patient draw the between-patient variability of the parameter files, across the particles of the
calibrated posterior when one is shipped; :func:`dermsim.model.pharmacology.pk.compute_css_nM` gives the
average steady state of the flux-based absorption, see :func:`simulate_exposure`).

Amount of cream. The age-specific fingertip-unit table gives FTUs per application for a whole
body area (face and neck, one arm and hand, one leg and foot, front of trunk, back and buttocks).
A region's FTUs are that area's FTUs times the share of the area that is treated, with area sizes
from the Lund-Browder chart at the patient's age, so cream is proportional to treated area within
an area. Where the table has no band for the age (11-17 y), the area rule applies: one FTU covers
the chart's ``ftu.area_cm2`` of skin. One FTU weighs ``ftu.weight_g``. ``grams_per_day`` replaces
this estimate for the exposure prediction. Without entered grams, a child's exposure uses the cream
children usually apply per cm2 (pk.toml ``g_per_cm2_child``: about half the FTU amount, measured in
the pediatric maximum-use trial), with the FTU estimate shown beside it; from age 12 on, the FTU
estimate (adults and adolescents applied 1.3-1.7 mg/cm2, near the FTU rule's 1.75).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from dermsim._rng import SeedLike, as_seed_sequence, seed_record
from dermsim._validate import check_int, check_positive, check_range
from dermsim.calibration import posterior as calib_post
from dermsim.clinic.evidence_keys import MODEL_PREFIX
from dermsim.errors import InvalidInputError
from dermsim.evidence import Evidence, load_evidence
from dermsim.evidence.charts import FTU_AREAS
from dermsim.model.disease import dynamics
from dermsim.model.parameters import ParameterSet, compute_individual_values, default_parameters
from dermsim.model.pharmacology import pk
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.model.population import growth
from dermsim.model.population.body import (
    compute_bsa_m2,
    compute_region_sizes_pct,
    default_bsa_formula,
    region_names,
)

# Which FTU-table area each Lund-Browder region belongs to (a mapping of names, not a number):
# genitalia go with the front of the trunk, buttocks with the back, as the table's labels say.
FTU_AREA_OF_REGION: dict[str, str] = {
    "head": "face_neck", "neck": "face_neck",
    "upper_arms": "arm_hand", "forearms": "arm_hand", "hands": "arm_hand",
    "thighs": "leg_foot", "lower_legs": "leg_foot", "feet": "leg_foot",
    "anterior_trunk": "trunk_front", "genitalia": "trunk_front",
    "posterior_trunk": "back_buttocks", "buttocks": "back_buttocks",
}
# The table's arm and leg entries are for ONE limb; the chart's regions hold both sides.
FTU_AREA_COUNT: dict[str, int] = {"face_neck": 1, "arm_hand": 2, "leg_foot": 2, "trunk_front": 1,
                                  "back_buttocks": 1}
# Everyday names a clinician types, each a set of Lund-Browder regions (names, not numbers).
REGION_GROUPS: dict[str, tuple[str, ...]] = {
    "arms": ("upper_arms", "forearms"),
    "legs": ("thighs", "lower_legs"),
    "trunk": ("anterior_trunk", "posterior_trunk"),
    "face": ("head",),
    "head_neck": ("head", "neck"),
}
# An average month for tube counts (365.25 / 12 days).
DAYS_PER_MONTH = 365.25 / 12.0
# Height further than this many CDC SDS from the age median (both sexes) is refused as implausible
# (typing errors such as 16 cm for 116 cm); +-6 SDS keeps severe short stature.
PLAUSIBLE_SDS = 6.0
# Weight SDS cannot flag such typos: with L < 0 the CDC LMS curve compresses the upper tail (210 kg
# at 6 y is only +5 SDS), so weight is checked as a ratio to the age median instead.
PLAUSIBLE_WEIGHT_RATIO = (0.4, 4.0)
MAX_AGE_Y = 120.0
DEFAULT_DRAWS = 4000
# grams_source of a child's plan without entered grams: the exposure uses the cream children usually
# apply (pk.toml g_per_cm2_child), the fingertip-unit estimate is shown beside it
USUAL_SOURCE = "usual use by children"
# A planned 60 g/week typed as 60/7 g/day comes back as 60.000000000000014 g/week; the label
# check must not call that an excess. 1e-12 relative is far below any clinically meaningful amount.
LIMIT_RTOL = 1e-12
# The exposure interval: 5th to 95th percentile over between-patient variability (a 90% interval).
INTERVAL = (0.05, 0.95)
# With a posterior: particles resampled by weight, and at least this many copies of the patient on
# each, so that each particle's P(Css > threshold) is an average over between-patient variability.
POSTERIOR_PARTICLES = 200
MIN_DRAWS_PER_PARTICLE = 20
# Log-scale spread of the child penetration multiplier's prior (pk.toml age_pen_child: centred on 1,
# about +/- 25 %; evidence skin_age.toml prior_note). Not calibrated, so its posterior is its prior.
AGE_PEN_LOG_SD = 0.2


def region_choices() -> tuple[str, ...]:
    """Names accepted in ``regions``: the Lund-Browder regions and the everyday groups."""
    return (*region_names(), *REGION_GROUPS)


def _region_parts(text: str) -> list[tuple[str, str, str, str]]:
    """(part, name, percent text, grams text or "") of each "region:percent[:grams g]" item."""
    out = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        name, sep, rest = part.partition(":")
        value, _, grams = rest.partition(":")
        out.append((part, name.strip().lower() if sep else "", value, grams.strip()))
    return out


def parse_region_grams(text: str) -> dict[str, float] | None:
    """The grams a day actually used per region, from ``"arms:50:1.2g,legs:30:1.5g"`` (None when no
    item gives grams; every region must then give them, so the total is the amount really used)."""
    parts = _region_parts(text)
    given = [p for p in parts if p[3]]
    if not given:
        return None
    if len(given) != len(parts):
        missing = ", ".join(p[1] or p[0] for p in parts if not p[3])
        raise InvalidInputError(f"regions: give grams a day for every region or for none (like "
                                f"'arms:50:1.2g'); missing for {missing}.")
    out: dict[str, float] = {}
    for part, name, _, grams in parts:
        try:
            if not grams.lower().endswith("g"):
                raise ValueError
            out[name] = float(grams[:-1])
        except ValueError:
            raise InvalidInputError(f"regions.{name} grams must be a number of grams a day like '1.2g'; "
                                    f"got {part!r}.") from None
    return out


def parse_regions(text: str) -> dict[str, float]:
    """``"arms:50,legs:30,trunk:10"`` -> ``{"arms": 50.0, ...}`` (percent of each region affected);
    an item may add the grams a day used there (``"arms:50:1.2g"``, see :func:`parse_region_grams`)."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        name, sep, value = part.partition(":")
        value = value.partition(":")[0]
        name = name.strip().lower()
        if not sep:
            raise InvalidInputError(
                f"regions must be 'region:percent' pairs separated by commas; got {part!r}.")
        if name in out:
            raise InvalidInputError(f"regions must name each region once; got {name!r} twice in {text!r}.")
        try:
            out[name] = float(value)
        except ValueError:
            raise InvalidInputError(f"regions.{name} must be a number (percent of the region affected); "
                                    f"got {value.strip()!r}.") from None
    if not out:
        raise InvalidInputError(f"regions must name at least one region; got {text!r}.")
    return out


def _label_strengths(ev: Evidence) -> tuple[float, ...]:
    # The label's strength, plus the active strengths the trials studied (0.75% is not marketed in
    # the US but is what families see in the trial results; the plan says so).
    label = float(ev.label.facts["strength_pct"].number or 0.0)
    trial = {a.strength_pct for t in ev.trials.values() for a in t.arms if a.strength_pct > 0}
    return tuple(sorted({label, *trial}))


@dataclass(frozen=True)
class DosePlanInput:
    """What the planner needs about one patient and the planned use. Frozen; validated on creation.

    Give ``regions`` (name -> percent of that region affected, 0-100) or ``area_pct`` (treated
    %BSA). ``weight_kg``/``height_cm`` default to the CDC median for age (and ``sex``; without
    sex, the mean of the girls' and boys' medians). ``grams_per_day`` replaces the FTU estimate.
    """

    age_y: float
    sex: str | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    regions: Mapping[str, float] | None = None
    area_pct: float | None = None
    strength_pct: float = 1.5
    applications_per_day: int = 2
    grams_per_day: float | None = None
    # grams a day actually used per region (keys = the names in ``regions``); replaces the FTU
    # estimate like ``grams_per_day`` (their sum), and the card shows them region by region
    region_grams_per_day: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        ev = load_evidence()
        min_age = float(ev.label.facts["indication_min_age_y"].number or 2.0)
        check_range("age_y", self.age_y, min_age, MAX_AGE_Y)
        if self.sex is not None and self.sex not in growth.SEXES:
            raise InvalidInputError(f"sex must be one of F, M; got {self.sex!r}.")
        for name in ("weight_kg", "height_cm"):
            value = getattr(self, name)
            if value is not None:
                check_positive(name, value)
                self._check_plausible(name, float(value))
        if (self.regions is None) == (self.area_pct is None):
            raise InvalidInputError("regions or area_pct must be given (exactly one of them); got "
                                    f"{'both' if self.regions is not None else 'neither'}.")
        if self.area_pct is not None:
            check_range("area_pct", self.area_pct, 0.0, 100.0, low_open=True)
        if self.regions is not None:
            object.__setattr__(self, "regions", self._check_regions(self.regions))
        strengths = _label_strengths(ev)
        if not any(math.isclose(float(self.strength_pct), s) for s in strengths):
            raise InvalidInputError(f"strength_pct must be one of {', '.join(f'{s:g}' for s in strengths)}; "
                                    f"got {self.strength_pct!r}.")
        check_int("applications_per_day", self.applications_per_day, minimum=1)
        if self.applications_per_day > 2:
            raise InvalidInputError(f"applications_per_day must be 1 or 2 (the label says twice daily); "
                                    f"got {self.applications_per_day}.")
        if self.grams_per_day is not None:
            check_positive("grams_per_day", self.grams_per_day)
        if self.region_grams_per_day is not None:
            if self.grams_per_day is not None:
                raise InvalidInputError("grams_per_day or grams per region must be given, not both; "
                                        "got both.")
            if self.regions is None:
                raise InvalidInputError("grams per region need regions (like 'arms:50:1.2g'); got area_pct.")
            grams = {str(k).strip().lower(): v for k, v in self.region_grams_per_day.items()}
            if set(grams) != set(self.regions):
                raise InvalidInputError(f"grams per region must name the same regions as regions "
                                        f"({', '.join(self.regions)}); got {', '.join(grams)}.")
            for name, g in grams.items():
                check_positive(f"regions.{name} grams a day", g)
            object.__setattr__(self, "region_grams_per_day", {k: float(v) for k, v in grams.items()})

    def _check_plausible(self, name: str, value: float) -> None:
        measurement = "weight" if name == "weight_kg" else "height"
        sexes = np.array([self.sex] if self.sex else list(growth.SEXES))
        if measurement == "weight":
            zero = np.zeros(sexes.size)
            median = growth.compute_measurement_from_sds(zero, "weight", sexes, np.full(sexes.size,
                                                                                        float(self.age_y)))
            ratio = value / float(np.mean(median))
            lo, hi = PLAUSIBLE_WEIGHT_RATIO
            if not lo <= ratio <= hi:
                raise InvalidInputError(
                    f"weight_kg must be plausible for age {self.age_y:g} y ({lo:g} to {hi:g} times the CDC "
                    f"median of {float(np.mean(median)):.1f} kg); got {value:g}.")
            return
        sds = growth.compute_sds(np.full(sexes.size, value), measurement, sexes,
                                 np.full(sexes.size, float(self.age_y)))
        if np.min(np.abs(sds)) > PLAUSIBLE_SDS:
            z = float(sds[np.argmin(np.abs(sds))])
            raise InvalidInputError(
                f"{name} must be plausible for age {self.age_y:g} y (within {PLAUSIBLE_SDS:g} SDS of the "
                f"CDC median); got {value:g} ({z:+.1f} SDS).")

    @staticmethod
    def _check_regions(regions: Mapping[str, float]) -> dict[str, float]:
        known = region_choices()
        seen: dict[str, str] = {}
        out: dict[str, float] = {}
        for raw_name, share in regions.items():
            name = str(raw_name).strip().lower()
            if name not in known:
                raise InvalidInputError(
                    f"regions: region must be one of {', '.join(known)}; got {raw_name!r}.")
            check_range(f"regions.{name} (percent of the region affected)", share, 0.0, 100.0)
            for lb in REGION_GROUPS.get(name, (name,)):
                if lb in seen:
                    raise InvalidInputError(f"regions.{name} overlaps regions.{seen[lb]} (both include "
                                            f"{lb}); give each body region once.")
                seen[lb] = name
            out[name] = float(share)
        if sum(out.values()) <= 0:
            raise InvalidInputError("regions must have at least one region affected above 0%; got all 0.")
        return out

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["regions"] = None if self.regions is None else dict(self.regions)
        d["region_grams_per_day"] = (None if self.region_grams_per_day is None
                                     else dict(self.region_grams_per_day))
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DosePlanInput:
        return cls(**dict(data))


@dataclass(frozen=True)
class RegionDose:
    name: str
    share_pct: float               # percent of the region affected
    treated_pct: float             # % of total BSA
    treated_cm2: float
    ftu_per_application: float
    grams_per_application: float
    grams_per_week: float
    grams_per_day_entered: float | None = None    # the grams a day really used there, when given


@dataclass(frozen=True)
class LabelCheck:
    """One label limit: ``within`` is None where the label gives no number (NF) for the age."""

    name: str
    value: float
    limit: float | None
    unit: str
    within: bool | None
    evidence_key: str
    status: str
    message: str


@dataclass(frozen=True)
class OralComparison:
    """The exposure from the cream against the exposure from ruxolitinib pills, in the same patient.

    Reaching the blood per day from the pills = the lowest labelled starting dose (mg twice a day)
    x 2 x the oral bioavailability (both confirmed evidence entries); from the cream = the model's
    absorbed amount per day for this plan. Elimination is linear (the same clearance for both
    routes), so the ratio of these amounts is the ratio of the average blood levels.
    """

    oral_dose_mg_bid: float
    oral_bioavailability_pct: float
    oral_mg_day: float                     # reaching the blood per day from the pills
    ratio_median: float                    # cream / pills
    ratio_p05: float
    ratio_p95: float
    keys: tuple[str, ...]                  # evidence keys of the dose and the bioavailability


@dataclass(frozen=True)
class Exposure:
    """Predicted average steady-state plasma concentration over between-patient variability."""

    css_median_nM: float
    css_p05_nM: float
    css_p95_nM: float
    p_above_threshold: float
    threshold_nM: float
    threshold_key: str
    n_draws: int
    parameters: str                # "prior" or "calibrated posterior"
    parameters_note: str
    oral_available: bool
    oral_message: str
    oral_key: str | None
    seed: dict[str, Any] = field(default_factory=dict)
    # 90% interval of P(Css > threshold) across posterior particles (parameter uncertainty);
    # None with the prior (one parameter set)
    p_above_p05: float | None = None
    p_above_p95: float | None = None
    n_particles: int = 1
    posterior_version: str | None = None   # the calibrated posterior the parameters come from
    # Cream vs pill, in the same patient: drug reaching the blood per day from the cream (model,
    # median and 90% range over the copies) and from the lowest labelled oral dose (evidence: dose x
    # oral bioavailability). With linear elimination the blood-level ratio equals their ratio.
    absorbed_mg_day_median: float = float("nan")
    absorbed_mg_day_p05: float = float("nan")
    absorbed_mg_day_p95: float = float("nan")
    oral: OralComparison | None = None


@dataclass(frozen=True)
class DosePlan:
    inp: DosePlanInput
    weight_kg: float
    height_cm: float
    body_source: str               # "given" or what the age-typical values came from
    bsa_m2: float
    bsa_formula: str
    treated_pct: float
    treated_cm2: float
    regions: tuple[RegionDose, ...]
    ftu_method: str
    ftu_keys: tuple[str, ...]
    ftu_per_application: float
    ftu_grams_per_application: float  # the fingertip-unit estimate in grams (shown beside other amounts)
    grams_per_application: float
    grams_per_day: float
    grams_per_week: float
    # "fingertip units", USUAL_SOURCE, "grams_per_day given" or "grams per region given"
    grams_source: str
    grams_per_month: float
    tubes_per_month: dict[str, int]
    label_checks: tuple[LabelCheck, ...]
    exposure: Exposure
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["inp"] = self.inp.to_dict()
        return _plain(d)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _body(inp: DosePlanInput) -> tuple[float, float, str]:
    if inp.weight_kg is not None and inp.height_cm is not None:
        return float(inp.weight_kg), float(inp.height_cm), "given"
    sexes = np.array([inp.sex] if inp.sex else list(growth.SEXES))
    ages = np.full(sexes.size, float(inp.age_y))
    zero = np.zeros(sexes.size)
    h, w = growth.compute_height_weight(ages, sexes, zero, zero)
    who = {"F": "girls", "M": "boys"}[inp.sex] if inp.sex else "girls and boys (mean)"
    parts = []
    weight, height = inp.weight_kg, inp.height_cm
    if weight is None:
        weight = float(np.mean(w))
        parts.append("weight")
    if height is None:
        height = float(np.mean(h))
        parts.append("height")
    ref_age = min(float(inp.age_y), growth.CDC_MAX_AGE_Y)
    return float(weight), float(height), (f"{' and '.join(parts)}: CDC 2000 median for {who} aged "
                                          f"{ref_age:g} y (rcpchgrowth)")


def _treated_by_region(inp: DosePlanInput, sizes: np.ndarray) -> dict[str, np.ndarray]:
    """Treated % of total BSA per Lund-Browder region, grouped by the names the user gave."""
    names = region_names()
    out: dict[str, np.ndarray] = {}
    assert inp.regions is not None
    for name, share in inp.regions.items():
        vec = np.zeros(len(names))
        for lb in REGION_GROUPS.get(name, (name,)):
            j = names.index(lb)
            vec[j] = share / 100.0 * sizes[j]
        out[name] = vec
    return out


def _ftu_rates(ev: Evidence, age_y: float, sizes: np.ndarray, bsa_m2: float) -> tuple[np.ndarray, str,
                                                                                      tuple[str, ...]]:
    """FTUs per application per % of total BSA treated, for each Lund-Browder region."""
    ftu = ev.charts.ftu
    band = ftu.band_for_age(age_y)
    names = region_names()
    if band is not None:
        idx = ftu.by_age.index(band)
        per_area = band.ftu()
        area_size = {a: 0.0 for a in FTU_AREAS}
        for j, r in enumerate(names):
            area_size[FTU_AREA_OF_REGION[r]] += sizes[j]
        rate = np.array([FTU_AREA_COUNT[FTU_AREA_OF_REGION[r]] * per_area[FTU_AREA_OF_REGION[r]]
                         / area_size[FTU_AREA_OF_REGION[r]] for r in names])
        keys = tuple(f"charts.toml:ftu.by_age.{idx}.{a}" for a in FTU_AREAS)
        return rate, f"age table, {band.label} band (FTUs per body area)", keys
    cm2_per_ftu = float(ftu.area_cm2.number or 0.0)
    rate = np.full(len(names), bsa_m2 * 1e4 / 100.0 / cm2_per_ftu)
    return (rate, f"area rule (no FTU table band for age {age_y:g} y): 1 FTU covers {cm2_per_ftu:g} cm2",
            ("charts.toml:ftu.area_cm2",))


@dataclass(frozen=True)
class ParameterSource:
    """Where the exposure parameters come from: the prior (one parameter set, no parameter
    uncertainty) or the shipped calibrated posterior (its particles, resampled by weight)."""

    kind: str                      # "prior" or "calibrated posterior"
    note: str
    posterior: Any = None          # dermsim.calibration.posterior.Posterior, or None


def _parameter_source() -> ParameterSource:
    """The shipped calibrated posterior by the one rule of
    :func:`dermsim.calibration.posterior.resolve_model` (which checks that it was fitted on the
    current model parameter files); otherwise the prior. Says which."""
    prior_note = "PK parameters: prior values of pk.toml (not yet calibrated to published concentrations)"
    model = calib_post.resolve_model("shipped")
    if model.posterior is None:
        return ParameterSource("prior", f"{prior_note}; {model.fallback}")
    post = model.posterior
    return ParameterSource("calibrated posterior",
                           f"PK parameters: calibrated posterior {post.version} (patients drawn across its "
                           f"particles; targets {post.targets_sha256[:12]})", post)


def posterior_parameter_sets(age_y: float, n_sets: int, rng: np.random.Generator,
                             source: ParameterSource | None = None
                             ) -> tuple[list[ParameterSet], ParameterSource]:
    """``n_sets`` parameter sets for a patient aged ``age_y``: resampled by weight from the shipped
    calibrated posterior (the one rule, :func:`_parameter_source`), each with the child penetration
    multiplier (pk.toml ``age_pen_child``, never calibrated) drawn from its prior below its age
    limit; with no usable posterior, the one prior set. Shared by the exposure and the scenarios,
    so every clinic number carries the same parameter uncertainty."""
    src = source or _parameter_source()
    base = default_parameters()
    if src.posterior is None:
        return [base], src
    sets = []
    for i in src.posterior.sample_indices(n_sets, rng):
        ps = src.posterior.parameter_set(int(i), base)
        if float(age_y) < ps.value("age_pen_max_y"):
            ps = ps.replace_values(age_pen_child=ps.value("age_pen_child")
                                   * float(np.exp(AGE_PEN_LOG_SD * rng.standard_normal())))
        sets.append(ps)
    return sets, src


def _draw_individual_values(sets: list[ParameterSet], particle: np.ndarray, z: np.ndarray,
                            groups: tuple[str, ...]) -> dict[str, dict[str, np.ndarray]]:
    """Per-draw parameter values (n,) when draw i comes from parameter set ``sets[particle[i]]``:
    each set's own typical values and omegas (model.parameters.compute_individual_values), on the
    standard normals ``z`` (n, n_names; column order sets[0].names())."""
    names = sets[0].names()
    n = particle.shape[0]
    out = {g: {name: np.empty(n) for name in sets[0].group(g)} for g in groups}
    for k in np.unique(particle):
        rows = np.flatnonzero(particle == k)
        zk = {name: z[rows, j] for j, name in enumerate(names)}
        for g in groups:
            for name, v in compute_individual_values(sets[k], g, zk, rows.size).items():
                out[g][name][rows] = v
    return out


def _within(value: float, limit: float) -> bool:
    """value <= limit, forgiving only the float noise of unit conversions (g/day x 7)."""
    return value <= limit * (1.0 + LIMIT_RTOL)


def _label_checks(ev: Evidence, age_y: float, treated_pct: float, g_week: float) -> tuple[LabelCheck, ...]:
    checks = []
    bsa = ev.label.facts["max_bsa_pct"]
    limit = float(bsa.number or 0.0)
    within = _within(treated_pct, limit)
    checks.append(LabelCheck(
        "max_bsa_pct", treated_pct, limit, "%BSA", within, "label.toml:facts.max_bsa_pct", bsa.status,
        f"treated {treated_pct:.1f}% BSA {'is within' if within else 'EXCEEDS'} the label maximum of "
        f"{limit:g}% BSA"))
    entry = ev.label.max_amount_for_age(age_y)
    idx = ev.label.max_amount.index(entry)
    group = (f"{entry.age_min_y:g}-{entry.age_max_exclusive_y - 1:g} y" if entry.age_max_exclusive_y
             else f">= {entry.age_min_y:g} y")
    for name, fact, value, unit in (("g_per_week", entry.g_per_week, g_week, "g/week"),
                                    ("g_per_2_weeks", entry.g_per_2_weeks, 2.0 * g_week, "g/2 weeks")):
        key = f"label.toml:max_amount.{idx}.{name}"
        if fact.status in ("C", "D") and fact.number is not None:
            lim = float(fact.number)
            ok = _within(value, lim)
            msg = (f"{value:.1f} {unit} {'is within' if ok else 'EXCEEDS'} the label maximum of "
                   f"{lim:g} {unit} for ages {group}")
            checks.append(LabelCheck(name, value, lim, unit, ok, key, fact.status, msg))
        else:
            checks.append(LabelCheck(
                name, value, None, unit, None, key, fact.status,
                f"no label number for ages {group} ({unit}); {value:.1f} {unit} planned"))
    return tuple(checks)


ORAL_DOSE_KEY = "pharmacology.toml:oral.dose_mf_start_min_mg_bid"
ORAL_F_KEY = "pharmacology.toml:oral.bioavailability_pct"


def _oral_comparison(ev: Evidence, absorbed_mg_day: np.ndarray) -> OralComparison | None:
    """Cream vs the lowest labelled pill dose in the same patient (see :class:`OralComparison`);
    None unless both evidence entries are confirmed. The lowest dose is the comparison that does
    not flatter the cream."""
    dose = ev.pharmacology.oral.get(ORAL_DOSE_KEY.rsplit(".", 1)[1])
    f = ev.pharmacology.oral.get(ORAL_F_KEY.rsplit(".", 1)[1])
    if (dose is None or f is None or dose.status not in ("C", "D") or f.status not in ("C", "D")
            or dose.number is None or f.number is None):
        return None
    oral_day = 2.0 * float(dose.number) * float(f.number) / 100.0
    r05, r50, r95 = np.quantile(np.asarray(absorbed_mg_day) / oral_day, [INTERVAL[0], 0.5, INTERVAL[1]])
    return OralComparison(float(dose.number), float(f.number), oral_day, float(r50), float(r05), float(r95),
                          (ORAL_DOSE_KEY, ORAL_F_KEY))


def _oral(ev: Evidence, oral: OralComparison | None) -> tuple[bool, str, str | None]:
    """A plain sentence on the pill comparison (no evidence keys: those are in ``oral.keys``)."""
    if oral is None:
        return (False, "no confirmed oral dose and bioavailability in the evidence library: "
                       "pills not compared", None)
    return (True, f"drug reaching the blood each day: from the cream about {oral.ratio_median:.2g} times the "
                  f"amount from the lowest ruxolitinib pill dose ({oral.oral_dose_mg_bid:g} mg twice a day, "
                  f"{oral.oral_bioavailability_pct:g}% absorbed: {oral.oral_mg_day:.3g} mg a day); 90% range "
                  f"{oral.ratio_p05:.2g} to {oral.ratio_p95:.2g}", ORAL_DOSE_KEY)


def simulate_exposure(inp: DosePlanInput, *, weight_kg: float, bsa_m2: float, treated_pct: float,
                     grams_per_application: float, seed: SeedLike, n_draws: int = DEFAULT_DRAWS,
                     evidence: Evidence | None = None) -> Exposure:
    """Css median, 90% interval and P(Css > threshold) over ``n_draws`` virtual copies of the
    patient (vectorized; between-patient variability of every parameter file, incl. the barrier).

    With a calibrated posterior the copies are spread over ``n_particles`` particles resampled by
    weight (``n_draws // n_particles`` each), so the Css quantiles and P(Css > threshold) include
    parameter uncertainty, and the 90% interval of P(Css > threshold) across particles says how
    sure the model is of that probability. The child penetration multiplier (pk.toml
    ``age_pen_child``, not calibrated) is drawn per particle from its prior for children.

    P(Css > threshold) is computed with the Jmax variability integrated exactly (Rao-Blackwell):
    for each copy, given everything else, Css > threshold exactly when its Jmax deviation exceeds
    a known value, a normal tail on the log scale. Same expectation as counting copies, far less
    Monte-Carlo noise in the tail, where the counts are few.
    """
    ev = evidence or load_evidence()
    check_int("n_draws", n_draws, minimum=100)
    src = _parameter_source()
    regimen = Regimen(strength_pct=float(inp.strength_pct),
                      application_times_h=(0.0, 8.0) if inp.applications_per_day == 2 else (0.0,),
                      grams_per_application=float(grams_per_application))
    ss = as_seed_sequence(seed)
    rng = np.random.default_rng(ss)
    base = default_parameters()
    n_part = (1 if src.posterior is None
              else max(1, min(POSTERIOR_PARTICLES, n_draws // MIN_DRAWS_PER_PARTICLE)))
    per = n_draws // n_part
    sets, _ = posterior_parameter_sets(float(inp.age_y), n_part, rng, src)
    n = n_part * per
    particle = np.repeat(np.arange(n_part), per)
    z = rng.standard_normal((n, len(base.names())))
    ind = _draw_individual_values(sets, particle, z, ("pk", "disease", "itch"))
    y0 = dynamics.solve_baseline(ind["disease"], ind["itch"])
    patient = pk.derive_patient_pk(ind["pk"], regimen, weight_kg=np.full(n, weight_kg),
                                   bsa_m2=np.full(n, bsa_m2), affected_pct=np.full(n, treated_pct),
                                   age_y=np.full(n, float(inp.age_y)))
    # absorbed per application at the patient's untreated barrier damage (the disease state the
    # plan starts from), with the cream of the plan spread over the treated area
    damage = 1.0 - y0[dynamics.B]
    apps = regimen.applications_per_day
    absorbed_day = pk.compute_absorbed_mg(patient, patient.grams, regimen.strength_pct, damage) * apps
    css = pk.compute_css_from_absorbed_nM(patient, absorbed_day)
    thr = ev.pharmacology.topical["myelosuppression_threshold_nM"]
    thr_nM = float(thr.number or 0.0)
    p_draw = _p_above_given_rest(patient, regimen, damage, thr_nM, sets, particle, z, base)
    p_particle = p_draw.reshape(n_part, per).mean(axis=1)
    q05, q50, q95 = np.quantile(css, [INTERVAL[0], 0.5, INTERVAL[1]])
    lo, hi = ((None, None) if n_part == 1 else
              (float(np.quantile(p_particle, INTERVAL[0])), float(np.quantile(p_particle, INTERVAL[1]))))
    oral = _oral_comparison(ev, absorbed_day)
    avail, msg, okey = _oral(ev, oral)
    a05, a50, a95 = np.quantile(absorbed_day, [INTERVAL[0], 0.5, INTERVAL[1]])
    return Exposure(css_median_nM=float(q50), css_p05_nM=float(q05), css_p95_nM=float(q95),
                    p_above_threshold=float(np.mean(p_draw)), threshold_nM=thr_nM,
                    threshold_key="pharmacology.toml:topical.myelosuppression_threshold_nM", n_draws=n,
                    parameters=src.kind, parameters_note=src.note, oral_available=avail, oral_message=msg,
                    oral_key=okey, seed=seed_record(ss), p_above_p05=lo, p_above_p95=hi, n_particles=n_part,
                    posterior_version=None if src.posterior is None else src.posterior.version,
                    absorbed_mg_day_median=float(a50), absorbed_mg_day_p05=float(a05),
                    absorbed_mg_day_p95=float(a95), oral=oral)


def _p_above_given_rest(patient: pk.PatientPK, regimen: Regimen, damage: np.ndarray, thr_nM: float,
                        sets: list[ParameterSet], particle: np.ndarray, z: np.ndarray,
                        base: ParameterSet) -> np.ndarray:
    """P(Css > thr_nM) of each copy given all its draws except its Jmax deviation eta_J.

    Css = min(c exp(omega_J eta_J), Css_dose), with c the flux-limited Css at the particle's median
    Jmax and Css_dose the Css if all the applied drug were absorbed; so the probability is
    (1 - Phi((log(thr / c)) / omega_J)) where Css_dose > thr, else 0.
    """
    from scipy.special import ndtr  # the normal CDF, vectorized

    apps = regimen.applications_per_day
    j = base.names().index("Jmax")
    omega = np.array([s["Jmax"].omega for s in sets])[particle]
    eta = z[:, j]
    flux = pk.compute_flux_mg(patient, patient.grams, regimen.strength_pct, damage)
    c = pk.compute_css_from_absorbed_nM(patient, flux * apps) * np.exp(-omega * eta)
    dose = pk.compute_dose_mg(patient.grams, regimen.strength_pct)
    css_dose = pk.compute_css_from_absorbed_nM(patient, dose * apps)
    with np.errstate(divide="ignore"):
        log_ratio = np.log(thr_nM / np.maximum(c, 1e-300))
    tail = np.where(omega > 0, ndtr(-log_ratio / np.where(omega > 0, omega, 1.0)),
                    (c > thr_nM).astype(float))
    return np.where(css_dose > thr_nM, tail, 0.0)


def _usual_g_per_cm2(age_y: float) -> float | None:
    """Cream per cm2 per application a child of ``age_y`` usually applies (pk.toml
    ``g_per_cm2_child`` below ``load_child_max_y``), or None from that age on (the FTU estimate)."""
    base = default_parameters()
    return base.value("g_per_cm2_child") if age_y < base.value("load_child_max_y") else None


def plan_dose(inp: DosePlanInput, *, seed: SeedLike, n_draws: int = DEFAULT_DRAWS) -> DosePlan:
    """The dose and exposure plan for one patient (see the module docstring for the method)."""
    ev = load_evidence()
    weight, height, body_source = _body(inp)
    formula = default_bsa_formula()
    bsa = float(compute_bsa_m2(height, weight, formula)[0])
    sizes = compute_region_sizes_pct(float(inp.age_y))[0]
    rate, method, keys = _ftu_rates(ev, float(inp.age_y), sizes, bsa)
    ftu_g = float(ev.charts.ftu.weight_g.number or 0.0)
    per_day = inp.applications_per_day
    regions: list[RegionDose] = []
    if inp.regions is not None:
        for name, vec in _treated_by_region(inp, sizes).items():
            pct = float(vec.sum())
            ftu = float(vec @ rate)
            entered = None if inp.region_grams_per_day is None else float(inp.region_grams_per_day[name])
            regions.append(RegionDose(name, float(inp.regions[name]), pct, bsa * 1e4 * pct / 100.0, ftu,
                                      ftu * ftu_g, ftu * ftu_g * per_day * 7.0, entered))
        treated = float(sum(r.treated_pct for r in regions))
        ftu_app = float(sum(r.ftu_per_application for r in regions))
    else:
        treated = float(inp.area_pct)
        # Without a region breakdown, FTUs per %BSA averaged over the whole body at this age.
        ftu_app = treated * float(np.sum(rate * sizes) / np.sum(sizes))
        method += "; whole-body average (no regions given)"
    treated_cm2 = bsa * 1e4 * treated / 100.0
    g_app_ftu = ftu_app * ftu_g
    notes: list[str] = []
    if inp.region_grams_per_day is not None:
        g_day = float(sum(inp.region_grams_per_day.values()))
        g_app = g_day / per_day
        source = "grams per region given"
        notes.append(f"exposure uses the {g_day:g} g/day given region by region (the FTU estimate was "
                     f"{g_app_ftu * per_day:.1f} g/day)")
    elif inp.grams_per_day is not None:
        g_day = float(inp.grams_per_day)
        g_app = g_day / per_day
        source = "grams_per_day given"
        notes.append(f"exposure uses the {g_day:g} g/day given (the FTU estimate was "
                     f"{g_app_ftu * per_day:.1f} g/day)")
    elif (usual := _usual_g_per_cm2(float(inp.age_y))) is not None:
        # a child: exposure at the cream children really apply, not at the fingertip-unit amount
        # (about twice as much per cm2; pk.toml g_per_cm2_child, why there)
        g_app = usual * treated_cm2
        g_day = g_app * per_day
        source = USUAL_SOURCE
    else:
        g_app, g_day, source = g_app_ftu, g_app_ftu * per_day, "fingertip units"
    label_strength = float(ev.label.facts["strength_pct"].number or 0.0)
    if not math.isclose(float(inp.strength_pct), label_strength):
        notes.append(f"{inp.strength_pct:g}% cream was studied in the trials; the marketed (label) strength "
                     f"is {label_strength:g}%")
    label_freq = int(ev.label.facts["dose_frequency_per_day"].number or 2)
    if per_day != label_freq:
        notes.append(f"the label says {label_freq} applications a day; this plan uses {per_day}")
    g_week = g_day * 7.0
    g_month = g_day * DAYS_PER_MONTH
    packs = ev.label.facts["pack_sizes_g"].value
    tube_sizes = [float(p) for p in packs if isinstance(p, int | float)] if isinstance(packs, list) else []
    # The smallest pack is a sample tube (label note); tubes are counted in the dispensed sizes.
    dispensed = [s for s in tube_sizes if s > min(tube_sizes)] if len(tube_sizes) > 1 else tube_sizes
    tubes = {f"{s:g} g": math.ceil(g_month / s - 1e-9) for s in dispensed}
    exposure = simulate_exposure(inp, weight_kg=weight, bsa_m2=bsa, treated_pct=treated,
                                grams_per_application=g_app, seed=seed, n_draws=n_draws, evidence=ev)
    return DosePlan(
        inp=inp, weight_kg=weight, height_cm=height, body_source=body_source, bsa_m2=bsa,
        bsa_formula=formula, treated_pct=treated, treated_cm2=treated_cm2, regions=tuple(regions),
        ftu_method=method, ftu_keys=keys, ftu_per_application=ftu_app, ftu_grams_per_application=g_app_ftu,
        grams_per_application=g_app,
        grams_per_day=g_day, grams_per_week=g_week, grams_source=source, grams_per_month=g_month,
        tubes_per_month=tubes, label_checks=_label_checks(ev, float(inp.age_y), treated, g_week),
        exposure=exposure, notes=tuple(notes))


EXPOSURE_MODEL_KEYS = {f"{MODEL_PREFIX}{k}" for k in (
    "css_median_nM", "css_p05_nM", "css_p95_nM", "p_above_threshold", "p_above_p05", "p_above_p95",
    "oral_ratio_median", "oral_ratio_p05", "oral_ratio_p95")}
