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

from dermsim.errors import DataValidationError
from dermsim.evidence import load_evidence

TARGETS_DIR = Path(__file__).parent / "targets"
DEFAULT_TARGETS = TARGETS_DIR / "adult_trials.toml"
# evidence keys that must never be fitted (held out for validation); checked by tests and on load
HELD_OUT_TRIALS = ("true-ad3",)
HELD_OUT_PK_WORDS = ("max", "must", "pediatric", "paediatric", "child", "phase1")


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        return cls(**data)


@dataclass(frozen=True)
class TargetSet:
    """All targets of one file, in a fixed order, with the file's hash and version."""

    targets: tuple[Target, ...]
    version: str
    sha256: str
    path: str

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
        return {"version": self.version, "sha256": self.sha256, "path": self.path,
                "targets": [t.to_dict() for t in self.targets]}


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


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Read a targets file, resolve each entry against the evidence library and validate it."""
    path = Path(path) if path is not None else DEFAULT_TARGETS
    if not path.exists():
        raise DataValidationError(f"targets file {path} does not exist.")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, f"not valid TOML ({exc}).") from None
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
            found = [r for r in trial.results(endpoint, arm=arm, visit_week=week)
                     if r.status != "NF" and r.value_pct is not None]
            if len(found) != 1:
                raise _fail(path, f"{trial_id} {endpoint} week {week:g} arm {arm}: expected exactly one "
                                  f"published result in the evidence; found {len(found)}.")
            res = found[0]
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
        if any(w in key.lower() for w in HELD_OUT_PK_WORDS):
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
