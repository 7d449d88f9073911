"""Calibration targets: arm-level summaries and adult PK, each read from the evidence library.

The TOML file (``targets/adult_trials.toml``) only names evidence keys and how each summary is
weighted; values, N, status and source come from :func:`dermsim.evidence.load_evidence`, so a
target can never silently differ from the evidence it cites. The file's SHA-256 is recorded in
every posterior made from it.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dermsim.errors import DataValidationError, InvalidInputError
from dermsim.evidence import load_evidence

TARGETS_DIR = Path(__file__).parent / "targets"
DEFAULT_TARGETS = TARGETS_DIR / "adult_trials.toml"
V2_TARGETS = TARGETS_DIR / "v2.toml"
# Evidence that must never be fitted; checked on load and by tests/unit/calibration/test_targets.py.
# Second version (issue 12): held out are the pediatric maximum-use trial (exposure, %BSA, IGA),
# TRuE-AD3 EASI-75 / EASI % change / children above 281 nM, and the long-term as-needed outcomes
# of TRuE-AD1/2. TRuE-AD3 IGA-TS week 8 is no longer held out but is not a target either
# (calibration uses adults and adolescents only), so no TRuE-AD3 result can be a target.
HELD_OUT_TRIALS = ("true-ad3",)
HELD_OUT_PK_WORDS = ("pediatric", "paediatric", "child", "peds", "phase1", "2-11", "2_11")
HELD_OUT_RESULT_WORDS = ("lts", "long-term", "long_term", "as-needed", "as_needed", "worsening",
                         "off_treatment", "off-treatment", "maintenance")
# the first version also held out the adult maximum-use trial (now a calibration target)
V1_HELD_OUT_PK_WORDS = ("max", "must", *HELD_OUT_PK_WORDS)
LAST_CONTROLLED_WEEK = 8.0   # TRuE-AD1/2 results after week 8 are the long-term (held-out) period


@dataclass(frozen=True)
class Target:
    """One fitted summary: observed ``value`` (a proportion in [0, 1] or a PK mean), its standard
    error, the weight of its squared standardised residual, and where it comes from."""

    name: str              # e.g. "true-ad1/rux150/IGA-TS/w8" or "pk/mean_css_nM/1.5"
    kind: str              # "binary" (arm responder proportion) or "pk"
    evidence_key: str      # e.g. "trials.true-ad1.endpoint_results[IGA-TS,rux150,8]"
    value: float
    n: int
    se: float
    weight: float
    status: str
    source: str
    trial: str = ""
    arm: str = ""
    endpoint: str = ""
    visit_week: float = float("nan")
    strength_pct: float = float("nan")
    sim_arm: str = ""      # v2: the simulated arm whose patients give the expected value
    stat: str = ""         # v2: statistic of that arm (likelihood.compute_arm_stats)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        return cls(**data)


@dataclass(frozen=True)
class SimArm:
    """A simulated arm of a v2 targets file: a trial's virtual population under one regimen."""

    trial: str
    arm: str
    population: str        # built-in population name or a TOML path (relative to calibration/)
    n_vp: int
    strength_pct: float
    application_times_h: tuple[float, ...]
    days: int
    grams_per_application: float | None = None
    g_per_cm2: float | None = None     # cream per cm2 per application (None: the model's default)
    design_class: str = ""             # "" phase 3 design; "maxuse": priors.V2_PARAMETERS eta_maxuse

    @property
    def id(self) -> str:
        return f"{self.trial}/{self.arm}"

    @property
    def population_path(self) -> str:
        p = Path(__file__).parent / self.population
        return str(p) if self.population.endswith(".toml") else self.population

    @property
    def regimen(self):
        from dermsim.model.pharmacology.regimen import Regimen

        return Regimen(strength_pct=self.strength_pct, application_times_h=self.application_times_h,
                       grams_per_application=self.grams_per_application, g_per_cm2=self.g_per_cm2,
                       name=self.id)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["application_times_h"] = list(self.application_times_h)
        return d


@dataclass(frozen=True)
class TargetSet:
    """All targets of one file, in a fixed order, with the file's hash and version."""

    targets: tuple[Target, ...]
    version: str
    sha256: str
    path: str
    sim_arms: tuple[SimArm, ...] = ()
    trial_sd_logit: float = 0.0
    method: str = "abc-smc"

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    @property
    def values(self) -> np.ndarray:
        return np.array([t.value for t in self.targets])

    @property
    def se(self) -> np.ndarray:
        return np.array([t.se for t in self.targets])

    @property
    def weights(self) -> np.ndarray:
        return np.array([t.weight for t in self.targets])

    def select(self, trials: tuple[str, ...]) -> np.ndarray:
        """Boolean mask of targets kept when fitting only ``trials`` (PK targets always kept)."""
        return np.array([t.kind == "pk" or t.trial in trials for t in self.targets])

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "sha256": self.sha256, "path": self.path, "method": self.method,
                "trial_sd_logit": self.trial_sd_logit, "sim_arms": [a.to_dict() for a in self.sim_arms],
                "targets": [t.to_dict() for t in self.targets]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TargetSet:
        arms = tuple(SimArm(**{**a, "application_times_h": tuple(a["application_times_h"])})
                     for a in data.get("sim_arms", []))
        return cls(targets=tuple(Target.from_dict(t) for t in data["targets"]), version=data["version"],
                   sha256=data["sha256"], path=data.get("path", ""), sim_arms=arms,
                   trial_sd_logit=float(data.get("trial_sd_logit", 0.0)),
                   method=str(data.get("method", "abc-smc")))


def hash_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _fail(path: Path, msg: str) -> DataValidationError:
    return DataValidationError(f"{path.name}: {msg}")


def _arm_n(trial: Any, arm: str, path: Path) -> int:
    try:
        n = trial.arm(arm).n
    except KeyError:
        raise _fail(path, f"arm must be one of {', '.join(a.id for a in trial.arms)} for {trial.id}; "
                          f"got {arm!r}.") from None
    if n is None:
        raise _fail(path, f"{trial.id} arm {arm} has no published N; it cannot be a target.")
    return n


def _one_result(path: Path, trial: Any, endpoint: str, arm: str, week: float) -> Any:
    """The single published (not NF) result of ``trial`` for this endpoint, arm and week."""
    found = [r for r in trial.results(endpoint, arm=arm, visit_week=week)
             if r.status != "NF" and r.value_pct is not None]
    if len(found) != 1:
        raise _fail(path, f"{trial.id} {endpoint} week {week:g} arm {arm}: expected exactly one "
                          f"published result in the evidence; found {len(found)}.")
    return found[0]


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Read a targets file, resolve each entry against the evidence library and validate it."""
    path = Path(path) if path is not None else DEFAULT_TARGETS
    if not path.exists():
        raise DataValidationError(f"targets file {path} does not exist.")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML ({exc}).") from None
    if "sim_arm" in data:
        return _load_v2(path, data)
    ev = load_evidence()
    u_weight = float(data.get("u_weight", 0.25))
    out: list[Target] = []
    for i, entry in enumerate(data.get("trial_result", [])):
        trial_id = str(entry.get("trial", ""))
        if trial_id in HELD_OUT_TRIALS:
            raise _fail(path, f"trial_result[{i}].trial {trial_id} is held out for validation; "
                              "it must not be a calibration target.")
        if trial_id not in ev.trials:
            raise _fail(path, f"trial_result[{i}].trial must be one of {', '.join(sorted(ev.trials))}; "
                              f"got {trial_id!r}.")
        trial = ev.trials[trial_id]
        endpoint, week = str(entry["endpoint"]), float(entry["visit_week"])
        frac = float(entry.get("subset_fraction", 1.0))
        for arm in entry["arms"]:
            res = _one_result(path, trial, endpoint, arm, week)
            n_arm = res.n_arm if res.n_arm is not None else _arm_n(trial, arm, path)
            n = max(1, round(n_arm * frac))
            p = res.value_pct / 100.0
            # binomial SE at the observed rate, floored at 0.5 responder so 0 % is not infinitely precise
            se = math.sqrt(max(p * (1 - p), 0.5 / n) / n)
            out.append(Target(
                name=f"{trial_id}/{arm}/{endpoint}/w{week:g}", kind="binary",
                evidence_key=f"trials.{trial_id}.endpoint_results[{endpoint},{arm},{week:g}]",
                value=p, n=n, se=se, weight=1.0 if res.status == "C" else u_weight, status=res.status,
                source=res.source, trial=trial_id, arm=arm, endpoint=endpoint, visit_week=week,
                strength_pct=trial.arm(arm).strength_pct))
    for i, entry in enumerate(data.get("pk", [])):
        key = str(entry["key"])
        if any(w in key.lower() for w in V1_HELD_OUT_PK_WORDS):
            raise _fail(path, f"pk[{i}].key {key} is maximum-use or pediatric PK, held out for validation.")
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "pharmacology":
            raise _fail(path, f"pk[{i}].key must look like pharmacology.<section>.<name>; got {key!r}.")
        section = getattr(ev.pharmacology, parts[1], None)
        fact = section.get(parts[2]) if isinstance(section, dict) else None
        if fact is None or not isinstance(fact.value, int | float) or fact.sd is None:
            raise _fail(path, f"pk[{i}].key {key} must name a numeric evidence fact with an SD.")
        n = int(entry["n_assumed"])
        se = max(float(fact.sd) / math.sqrt(n), float(entry.get("rel_se_floor", 0.0)) * float(fact.value))
        out.append(Target(
            name=f"pk/{entry['statistic']}/{float(entry['strength_pct']):g}", kind="pk", evidence_key=key,
            value=float(fact.value), n=n, se=se, weight=1.0 if fact.status == "C" else u_weight,
            status=fact.status, source=fact.source, endpoint=str(entry["statistic"]),
            strength_pct=float(entry["strength_pct"])))
    if not out:
        raise _fail(path, "holds no targets.")
    return TargetSet(targets=tuple(out), version=str(data.get("version", path.stem)), sha256=hash_file(path),
                     path=str(path))


def _check_result_not_held_out(path: Path, i: int, trial_id: str, endpoint: str, week: float,
                               population: str) -> None:
    if trial_id in HELD_OUT_TRIALS:
        raise _fail(path, f"trial_result[{i}].trial {trial_id} is pediatric: its EASI-75, EASI % change and "
                          "plasma levels are held out for validation, and its IGA-TS is not a calibration "
                          "target (adults and adolescents only).")
    text = f"{trial_id} {endpoint} {population}".lower()
    if any(w in text for w in HELD_OUT_RESULT_WORDS + HELD_OUT_PK_WORDS):
        raise _fail(path, f"trial_result[{i}] ({trial_id} {endpoint}) is a held-out result "
                          "(pediatric or long-term as-needed use); it must not be a calibration target.")
    if trial_id in ("true-ad1", "true-ad2") and week > LAST_CONTROLLED_WEEK:
        raise _fail(path, f"trial_result[{i}]: {trial_id} week {week:g} is in the long-term as-needed "
                          "period, "
                          "held out for validation; only weeks 0-8 can be targets.")


def _stat_of(endpoint: str, week: float) -> tuple[str, str]:
    """(kind, statistic) of a trial result: responder proportions or the mean EASI % change."""
    from dermsim.calibration.likelihood import BINARY_STATS

    day = round(7 * week)
    if endpoint == "EASI-PCHG":
        return "continuous", f"easi_pchg@d{day}"
    if endpoint == "IGA-RESPONSE":   # phase 2 'IGA response': IGA 0/1 with >= 2 grades improvement
        return "binary", f"IGA-TS@d{day}"
    if endpoint not in BINARY_STATS:
        raise InvalidInputError(f"endpoint must be one of {', '.join([*BINARY_STATS, 'EASI-PCHG'])}; "
                                f"got {endpoint!r}.")
    return "binary", f"{endpoint}@d{day}"


def _load_v2(path: Path, data: dict[str, Any]) -> TargetSet:
    """A v2 targets file: simulated arms (``[[sim_arm]]``), trial results and PK statistics, all at
    full weight (issue 12), each resolved against the evidence library."""
    ev = load_evidence()
    arms: dict[str, SimArm] = {}
    for i, a in enumerate(data["sim_arm"]):
        try:
            arm = SimArm(trial=str(a["trial"]), arm=str(a["arm"]), population=str(a["population"]),
                         n_vp=int(a["n_vp"]), strength_pct=float(a["strength_pct"]),
                         application_times_h=tuple(float(t) for t in
                                                   a.get("application_times_h", (0.0, 8.0))),
                         days=int(a.get("days", 56)),
                         grams_per_application=(float(a["grams_per_application"])
                                                if "grams_per_application" in a else None),
                         g_per_cm2=float(a["g_per_cm2"]) if "g_per_cm2" in a else None,
                         design_class=str(a.get("design_class", "")))
        except KeyError as exc:
            raise _fail(path, f"sim_arm[{i}] lacks {exc.args[0]}.") from None
        if arm.trial in HELD_OUT_TRIALS or any(w in arm.population.lower() for w in HELD_OUT_PK_WORDS):
            raise _fail(path, f"sim_arm[{i}] ({arm.id}, population {arm.population}) is pediatric; "
                              "calibration uses adults and adolescents only.")
        arms[arm.id] = arm
    out: list[Target] = []
    for i, entry in enumerate(data.get("trial_result", [])):
        trial_id = str(entry.get("trial", ""))
        endpoint, week = str(entry["endpoint"]), float(entry["visit_week"])
        _check_result_not_held_out(path, i, trial_id, endpoint, week, str(entry.get("population", "")))
        trials = {**ev.trials, **ev.dose_ranging.trials}
        if trial_id not in trials:
            raise _fail(path, f"trial_result[{i}].trial must be one of {', '.join(sorted(trials))}; "
                              f"got {trial_id!r}.")
        trial = trials[trial_id]
        kind, stat = _stat_of(endpoint, week)
        frac = float(entry.get("subset_fraction", 1.0))
        for arm_id in entry["arms"]:
            sim = f"{trial_id}/{arm_id}"
            if sim not in arms:
                raise _fail(path, f"trial_result[{i}]: no [[sim_arm]] {sim} to simulate it.")
            res = _one_result(path, trial, endpoint, arm_id, week)
            if res.n_arm is not None:
                n_arm = res.n_arm
            elif "n_arm_assumed" in entry:   # per-arm N not published (stated in the entry)
                n_arm = int(entry["n_arm_assumed"])
            else:
                n_arm = _arm_n(trial, arm_id, path)
            n = max(1, round(n_arm * frac))
            if kind == "binary":
                value = res.value_pct / 100.0
                se = math.sqrt(max(value * (1 - value), 0.5 / n) / n)
            else:
                value = float(res.value_pct)
                sd = res.sd if res.sd is not None else entry.get("assumed_sd")
                if sd is None:
                    raise _fail(path, f"trial_result[{i}] {trial_id} {endpoint} {arm_id}: the evidence gives "
                                      "no SD; set assumed_sd (with a reason) in the entry.")
                se = float(sd) / math.sqrt(n)
            out.append(Target(
                name=f"{trial_id}/{arm_id}/{endpoint}/w{week:g}", kind=kind,
                evidence_key=f"trials.{trial_id}.endpoint_results[{endpoint},{arm_id},{week:g}]",
                value=value, n=n, se=se, weight=1.0, status=res.status, source=res.source, trial=trial_id,
                arm=arm_id, endpoint=endpoint, visit_week=week, strength_pct=arms[sim].strength_pct,
                sim_arm=sim, stat=stat))
    for i, entry in enumerate(data.get("pk", [])):
        out.append(_pk_target(path, i, entry, ev, arms))
    if not out:
        raise _fail(path, "holds no targets.")
    return TargetSet(targets=tuple(out), version=str(data.get("version", path.stem)), sha256=hash_file(path),
                     path=str(path), sim_arms=tuple(arms.values()),
                     trial_sd_logit=float(data.get("trial_sd_logit", 0.0)),
                     method=str(data.get("method", "laplace-is")))


PK_STATISTICS = ("css_mean", "css_sd", "F_mean", "F_sd", "t_half_h", "cmax_cmin", "tmax_h")


def _pk_target(path: Path, i: int, entry: dict[str, Any], ev: Any, arms: dict[str, SimArm]) -> Target:
    """A PK statistic: the mean (SE = SD / sqrt(n)) or the SD (SE = SD sqrt((kurtosis - 1) / (4 n)),
    kurtosis from the entry: exposure data are skewed, so the normal value 3 understates it) of an
    evidence fact, or a kinetic summary with a stated relative SE where no SD is published."""
    key = str(entry["key"])
    if any(w in key.lower() for w in HELD_OUT_PK_WORDS):
        raise _fail(path, f"pk[{i}].key {key} is pediatric PK, held out for validation.")
    statistic = str(entry["statistic"])
    if statistic not in PK_STATISTICS:
        raise _fail(path, f"pk[{i}].statistic must be one of {', '.join(PK_STATISTICS)}; got {statistic!r}.")
    sim = str(entry["sim_arm"])
    if sim not in arms:
        raise _fail(path, f"pk[{i}]: no [[sim_arm]] {sim} to simulate it.")
    fact, group = _resolve_pk_fact(key, ev)
    if fact is None or not isinstance(fact.value, int | float):
        raise _fail(path, f"pk[{i}].key must name a numeric evidence fact pharmacology.<section>.<name> or "
                          f"pk_maxuse_adult.<group>.<field>; got {key!r}.")
    if "n" in entry:
        n = int(entry["n"])
    elif group is not None and "n_field" in entry:
        n = int(getattr(group, str(entry["n_field"])).value)
    else:
        raise _fail(path, f"pk[{i}]: give n (patients behind {key}) or n_field (the evidence field "
                          "holding it).")
    if statistic.endswith("_sd"):
        if fact.sd is None:
            raise _fail(path, f"pk[{i}]: {key} has no published SD to fit.")
        value = float(fact.sd)
        se = value * math.sqrt((float(entry.get("kurtosis", 9.0)) - 1.0) / (4.0 * n))
    else:
        value = float(fact.value)
        if fact.sd is not None and "rel_se" not in entry:
            se = float(fact.sd) / math.sqrt(n)
        elif "rel_se" in entry:
            se = float(entry["rel_se"]) * value
        else:
            raise _fail(path, f"pk[{i}]: {key} has no SD; give rel_se (with a reason).")
    subgroup = str(entry.get("subgroup", ""))
    stat = statistic + (f"@{subgroup}" if subgroup else "")
    return Target(name=f"pk/{sim}/{stat}", kind="pk", evidence_key=key, value=value, n=n, se=se, weight=1.0,
                  status=fact.status, source=fact.source, trial=arms[sim].trial, arm=arms[sim].arm,
                  endpoint=statistic, strength_pct=arms[sim].strength_pct, sim_arm=sim, stat=stat)


def _resolve_pk_fact(key: str, ev: Any) -> tuple[Any, Any]:
    """(fact, maximum-use group or None) of ``pharmacology.<section>.<name>`` or
    ``pk_maxuse_adult.<group>.<field>`` (the adult maximum-use trial, Bissonnette 2022 Table 3)."""
    parts = key.split(".")
    if len(parts) != 3:
        return None, None
    if parts[0] == "pharmacology":
        section = getattr(ev.pharmacology, parts[1], None)
        return (section.get(parts[2]) if isinstance(section, dict) else None), None
    if parts[0] == "pk_maxuse_adult":
        group = ev.pk_maxuse_adult.groups.get(parts[1])
        return (getattr(group, parts[2], None) if group is not None else None), group
    return None, None
