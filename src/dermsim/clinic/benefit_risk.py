"""Numbers for the family benefit-risk sheet, each with the evidence key it came from.

Only confirmed (C) or derived (D) evidence is used; an unconfirmed (U) or not-found (NF) number
never becomes a :class:`SheetNumber` (the sheet says the number is not available instead).
Which trials speak for the child is read from the trials' own age eligibility (TRuE-AD3 for
2-11 y, TRuE-AD1 and TRuE-AD2 for >= 12 y). TRuE-AD1 and AD2 are shown per trial, not pooled:
their per-arm sizes are unconfirmed, so a pooled rate could not be weighted from confirmed numbers.

Blood levels predicted for the child are model outputs (keys ``model:...``), not evidence; they
carry the name of the parameter set (prior or calibrated posterior) instead of a citation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from dermsim.clinic.dose import DosePlan
from dermsim.clinic.evidence_keys import MODEL_PREFIX, cite, key_of
from dermsim.errors import InvalidInputError
from dermsim.evidence import AERow, Evidence, Trial, load_evidence

ENDPOINT_CLEAR = "IGA-TS"
VISIT_WEEK = 8.0
ARM_ORDER = ("rux150", "rux075", "vehicle")
MAX_SIDE_EFFECTS = 5
_NOT_SIDE_EFFECTS = ("Any TEAE", "Discontinuation due to TEAE")


@dataclass(frozen=True)
class SheetNumber:
    """A number shown to families: value, unit, the key it came from, its status and citations."""

    value: float
    unit: str
    key: str
    status: str
    citations: tuple[str, ...]

    @property
    def per_100(self) -> float:
        return self.value if self.unit in ("%", "in 100") else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _evidence_number(value: float, unit: str, key: str, ev: Evidence) -> SheetNumber:
    c = cite(key, ev)
    if not c.shareable:
        raise InvalidInputError(f"evidence {key} has status {c.status}; only C or D numbers may be shown "
                                "to families.")
    return SheetNumber(float(value), unit, key, c.status, c.citations)


def _model_number(value: float, unit: str, name: str, parameters: str,
                  version: str | None = None) -> SheetNumber:
    which = f"calibrated posterior {version}" if version else f"{parameters} parameters"
    return SheetNumber(float(value), unit, f"{MODEL_PREFIX}{name}", "model",
                       (f"dermsim PK model, {which} (model/data/parameters/pk.toml)",))


@dataclass(frozen=True)
class ArmOutcome:
    arm: str
    strength_pct: float
    label: str
    clear: SheetNumber | None      # None: not available (NF or U)


@dataclass(frozen=True)
class StudyOutcome:
    trial_id: str
    trial_name: str
    population: str
    arms: tuple[ArmOutcome, ...]


@dataclass(frozen=True)
class SideEffect:
    term: str
    active: SheetNumber
    vehicle: SheetNumber | None
    denominator_active: int | None
    denominator_vehicle: int | None


@dataclass(frozen=True)
class ItchTiming:
    arm: str
    median_days: SheetNumber


@dataclass(frozen=True)
class BenefitRisk:
    age_y: float
    age_group: str
    efficacy_basis: str
    efficacy: tuple[StudyOutcome, ...]
    itch_from_own_age_group: bool
    itch_source_name: str
    itch_early_key: str | None
    itch: tuple[ItchTiming, ...]
    side_effect_source: str
    active_arm: str
    side_effects: tuple[SideEffect, ...]
    stopped: tuple[SideEffect, ...]
    boxed_topics: tuple[tuple[str, str, str], ...]     # (id, title, key)
    boxed_basis_key: str
    threshold: SheetNumber
    css_median: SheetNumber
    css_p05: SheetNumber
    css_p95: SheetNumber
    p_above: SheetNumber
    parameters: str
    trial_pk_statement_key: str | None
    strength_pct: float
    # 90% interval of p_above across posterior particles (None with the prior: no such interval)
    p_above_p05: SheetNumber | None = None
    p_above_p95: SheetNumber | None = None
    # cream vs the lowest adult pill dose: parts reaching the blood per 100 from the pill (model for
    # the cream, evidence for the pill; None when the evidence lacks a confirmed dose or uptake)
    oral_ratio: SheetNumber | None = None
    oral_ratio_p05: SheetNumber | None = None
    oral_ratio_p95: SheetNumber | None = None
    oral_keys: tuple[str, ...] = ()

    def numbers(self) -> list[SheetNumber]:
        """Every number the sheet may show (for tracing each to its key)."""
        out: list[SheetNumber] = []
        for study in self.efficacy:
            out += [a.clear for a in study.arms if a.clear is not None]
        out += [i.median_days for i in self.itch]
        for se in (*self.side_effects, *self.stopped):
            out.append(se.active)
            if se.vehicle is not None:
                out.append(se.vehicle)
        out += [self.threshold, self.css_median, self.css_p05, self.css_p95, self.p_above]
        out += [x for x in (self.p_above_p05, self.p_above_p95, self.oral_ratio, self.oral_ratio_p05,
                            self.oral_ratio_p95) if x is not None]
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def trials_for_age(age_y: float, ev: Evidence | None = None) -> list[Trial]:
    """Trials whose age eligibility includes ``age_y`` (from the evidence, not typed here)."""
    ev = ev or load_evidence()
    out = []
    for t in ev.trials.values():
        lo = t.eligibility.age_min_y.number
        hi = t.eligibility.age_max_exclusive_y.number if t.eligibility.age_max_exclusive_y else None
        if lo is not None and age_y >= lo and (hi is None or age_y < hi):
            out.append(t)
    if not out:
        raise InvalidInputError(
            f"age_y must fall in the age range of a trial in the evidence; got {age_y:g}.")
    return sorted(out, key=lambda t: t.id)


def _efficacy(trial: Trial, ev: Evidence) -> StudyOutcome:
    arms = []
    for arm_id in ARM_ORDER:
        try:
            arm = trial.arm(arm_id)
        except KeyError:
            continue
        res = trial.results(ENDPOINT_CLEAR, arm=arm_id, visit_week=VISIT_WEEK)
        clear = None
        if res and res[0].confirmed and res[0].value_pct is not None:
            clear = _evidence_number(res[0].value_pct, "%", key_of(res[0], ev), ev)
        arms.append(ArmOutcome(arm_id, arm.strength_pct, arm.label, clear))
    return StudyOutcome(trial.id, trial.name, trial.population, tuple(arms))


def _ae_pct(row: AERow) -> float | None:
    if row.pct is not None:
        return float(row.pct)
    if row.n is not None and row.denominator:
        return 100.0 * row.n / row.denominator
    return None


def _side_effects(rows: list[AERow], active: str, ev: Evidence) -> tuple[list[SideEffect], list[SideEffect]]:
    vc = [r for r in rows if r.period.startswith("VC") and r.confirmed and _ae_pct(r) is not None]
    by_term: dict[str, dict[str, AERow]] = {}
    for r in vc:
        by_term.setdefault(r.term, {})[r.arm] = r
    effects, stopped = [], []
    for term, arms in by_term.items():
        if active not in arms or term == "Any TEAE":
            continue
        a, v = arms[active], arms.get("vehicle")
        se = SideEffect(
            term, _evidence_number(_ae_pct(a), "%", key_of(a, ev), ev),
            None if v is None else _evidence_number(_ae_pct(v), "%", key_of(v, ev), ev),
            a.denominator, None if v is None else v.denominator)
        (stopped if term in _NOT_SIDE_EFFECTS else effects).append(se)
    effects.sort(key=lambda s: -s.active.value)
    return effects[:MAX_SIDE_EFFECTS], stopped


def compute_benefit_risk(plan: DosePlan, ev: Evidence | None = None) -> BenefitRisk:
    """The sheet's numbers for the patient of ``plan`` (age group, planned strength and exposure)."""
    ev = ev or load_evidence()
    age = float(plan.inp.age_y)
    trials = trials_for_age(age, ev)
    names = " and ".join(t.name for t in trials)
    basis = (f"{names}, per trial (not pooled)" if len(trials) > 1 else names)
    efficacy = tuple(_efficacy(t, ev) for t in trials)
    lo = min(t.eligibility.age_min_y.number or 0 for t in trials)
    his = [t.eligibility.age_max_exclusive_y.number if t.eligibility.age_max_exclusive_y else None
           for t in trials]
    group = f"{lo:g}-{max(h for h in his if h is not None) - 1:g} y" if all(his) else f"{lo:g} y and older"

    # Itch timing: the child's own trials if they report it as a confirmed number; else the pooled
    # AD1/AD2 data (ages >= 12), said so on the sheet.
    trial_ids = {t.id for t in trials}
    with_itch = [p for p in ev.pooled.values() if any(k.startswith("median_days_to_itch01") for k in p.facts)]
    if not with_itch:
        raise InvalidInputError("evidence: no pooled data set gives median days to itch NRS 0/1.")
    pooled = with_itch[0]
    own = trial_ids <= set(pooled.trials)
    itch = []
    for arm_id in ARM_ORDER:
        fact_name = f"median_days_to_itch01_{arm_id}"
        fact = pooled.facts.get(fact_name)
        if fact is not None and fact.confirmed and fact.number is not None:
            key = key_of(fact, ev)
            itch.append(ItchTiming(arm_id, _evidence_number(fact.number, "days", key, ev)))
    early = pooled.facts.get("itch_relief")
    early_key = key_of(early, ev) if early is not None and early.confirmed else None

    # Side effects: the label's 8-week table for the child's age group.
    active = "rux150"
    if own:
        rows, se_source = pooled.ae, f"{pooled.name} (label table, weeks 0-8)"
    else:
        rows = [r for t in trials for r in t.ae]
        se_source = f"{names} (label table, weeks 0-8)"
    effects, stopped = _side_effects(rows, active, ev)

    bw = ev.label.boxed_warning
    topics = tuple((t.id, t.title, key_of(t, ev)) for t in bw.topics if t.confirmed)
    exp = plan.exposure
    oral = exp.oral
    ver = exp.posterior_version

    def ratio(value: float, name: str) -> SheetNumber:
        n = _model_number(100.0 * value, "in 100", name, exp.parameters, ver)
        cites = tuple(dict.fromkeys((*n.citations, *(c for k in oral.keys for c in cite(k, ev).citations))))
        return SheetNumber(n.value, n.unit, n.key, n.status, cites)

    thr = _evidence_number(exp.threshold_nM, "nM", exp.threshold_key, ev)
    pk_key = None
    for t in trials:
        f = t.facts.get("pk_below_threshold")
        if f is not None and f.confirmed:
            pk_key = key_of(f, ev)
    return BenefitRisk(
        age_y=age, age_group=group, efficacy_basis=basis, efficacy=efficacy,
        itch_from_own_age_group=own, itch_source_name=pooled.name, itch_early_key=early_key, itch=tuple(itch),
        side_effect_source=se_source, active_arm=active, side_effects=tuple(effects), stopped=tuple(stopped),
        boxed_topics=topics, boxed_basis_key=key_of(bw.basis, ev), threshold=thr,
        css_median=_model_number(exp.css_median_nM, "nM", "css_median_nM", exp.parameters, ver),
        css_p05=_model_number(exp.css_p05_nM, "nM", "css_p05_nM", exp.parameters, ver),
        css_p95=_model_number(exp.css_p95_nM, "nM", "css_p95_nM", exp.parameters, ver),
        p_above=_model_number(100.0 * exp.p_above_threshold, "in 100", "p_above_threshold", exp.parameters,
                              ver),
        parameters=exp.parameters, trial_pk_statement_key=pk_key, strength_pct=float(plan.inp.strength_pct),
        p_above_p05=(None if exp.p_above_p05 is None else
                     _model_number(100.0 * exp.p_above_p05, "in 100", "p_above_p05", exp.parameters, ver)),
        p_above_p95=(None if exp.p_above_p95 is None else
                     _model_number(100.0 * exp.p_above_p95, "in 100", "p_above_p95", exp.parameters, ver)),
        oral_ratio=None if oral is None else ratio(oral.ratio_median, "oral_ratio_median"),
        oral_ratio_p05=None if oral is None else ratio(oral.ratio_p05, "oral_ratio_p05"),
        oral_ratio_p95=None if oral is None else ratio(oral.ratio_p95, "oral_ratio_p95"),
        oral_keys=() if oral is None else oral.keys)


def typical_area_pct(age_y: float, ev: Evidence | None = None) -> tuple[float, str]:
    """The mean affected %BSA at baseline in the trials for this age (a default when the family
    gives no area), with its evidence key; pooled baseline where the trials give none."""
    ev = ev or load_evidence()
    trials = trials_for_age(age_y, ev)
    for t in trials:
        f = t.baseline.get("bsa_pct")
        if f is not None and f.confirmed and f.number is not None:
            return float(f.number), key_of(f, ev)
    for p in ev.pooled.values():
        f = p.baseline.get("bsa_pct")
        if {t.id for t in trials} <= set(p.trials) and f is not None and f.confirmed and f.number is not None:
            return float(f.number), key_of(f, ev)
    raise InvalidInputError(f"area_pct: no confirmed baseline %BSA in the evidence for age {age_y:g}; "
                            "give --regions or --area-pct.")
