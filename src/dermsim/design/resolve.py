"""A design made concrete against its trial scenario: the arms kept and their ratio, the
stratification factors and block size, one regimen per arm, the primary day and the hypotheses,
all checked before any replicate is simulated (the design's schema itself is in design.spec)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from dermsim.design.spec import DesignSpec, Hypothesis
from dermsim.errors import InvalidInputError
from dermsim.model.pharmacology.regimen import Regimen
from dermsim.trial import TrialDesign, load_design


@dataclasses.dataclass(frozen=True)
class ResolvedDesign:
    """A DesignSpec made concrete against its scenario (arm indices, regimens, factors, days)."""

    spec: DesignSpec
    scenario: TrialDesign
    arm_ids: tuple[str, ...]
    ratio: tuple[int, ...]
    regimens: tuple[Regimen, ...]
    factors: tuple[Any, ...]
    n_strata: int
    block_size: int
    days: int  # model days after the first application (primary visit index)
    hypotheses: tuple[Hypothesis, ...]
    dropout_per_week: float


def _default_hypotheses(
    endpoints: Sequence[str], scenario: TrialDesign, arm_ids: Sequence[str]
) -> list[Hypothesis]:
    arms = [scenario.arm(a) for a in arm_ids]
    controls = [a for a in arms if a.strength_pct == 0]
    if not controls:
        raise InvalidInputError(f"ratio must keep a vehicle arm to test against; got arms {list(arm_ids)}.")
    active = sorted((a for a in arms if a.strength_pct > 0), key=lambda a: -a.strength_pct)
    return [
        Hypothesis(endpoint=ep, treatment=a.id, control=controls[0].id) for ep in endpoints for a in active
    ]


def resolve_design(scenario: TrialDesign | str, spec: DesignSpec) -> ResolvedDesign:
    """Check ``spec`` against ``scenario`` and resolve arms, ratio, strata, regimens and days."""
    scen = scenario if isinstance(scenario, TrialDesign) else load_design(scenario)
    ratio_map = spec.ratio if spec.ratio is not None else {a.id: a.ratio for a in scen.arms}
    for a in ratio_map:
        if a not in scen.arm_ids:
            raise InvalidInputError(
                f"ratio names arm {a!r}; the scenario's arms are {', '.join(scen.arm_ids)}."
            )
    arm_ids = tuple(a for a in scen.arm_ids if a in ratio_map)
    ratio = tuple(int(ratio_map[a]) for a in arm_ids)
    all_factors = {f.name: f for f in scen.stratification.factors}
    names = list(all_factors) if spec.strata is None else spec.strata
    for nm in names:
        if nm not in all_factors:
            raise InvalidInputError(
                f"strata names factor {nm!r}; the scenario's factors are {', '.join(all_factors) or 'none'}."
            )
    factors = tuple(all_factors[nm] for nm in names)
    n_strata = math.prod(f.n_levels for f in factors) if factors else 1
    total = sum(ratio)
    scen_total = sum(scen.ratio)
    block = scen.stratification.block_size
    if block % total:
        # keep the scenario's number of complete ratio sets per block
        block = total * max(1, block // scen_total)
    day = scen.schedule.vc_end_day if spec.primary_day is None else spec.primary_day
    if day > scen.schedule.vc_end_day:
        raise InvalidInputError(
            f"primary_day must be within the vehicle-controlled period (2-"
            f"{scen.schedule.vc_end_day}); got {day}."
        )
    hyps = (
        tuple(spec.hypotheses)
        if spec.hypotheses is not None
        else tuple(_default_hypotheses(spec.endpoints, scen, arm_ids))
    )
    for h in hyps:
        for a in (h.treatment, h.control):
            if a not in arm_ids:
                raise InvalidInputError(
                    f"hypothesis {h.label} names arm {a!r}; the design's arms are {', '.join(arm_ids)}."
                )
    regimens = []
    for a in arm_ids:
        arm = scen.arm(a)
        strength = 0.0 if spec.null else arm.strength_pct
        regimens.append(
            Regimen(
                strength_pct=strength,
                application_times_h=arm.application_times_h,
                adherence=float(scen.adherence.mean),
                name=arm.label,
            )
        )
    return ResolvedDesign(
        spec=spec,
        scenario=scen,
        arm_ids=arm_ids,
        ratio=ratio,
        regimens=tuple(regimens),
        factors=factors,
        n_strata=n_strata,
        block_size=block,
        days=day - 1,
        hypotheses=hyps,
        dropout_per_week=scen.dropout.hazard_per_week if spec.dropout else 0.0,
    )
