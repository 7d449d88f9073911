"""Children's blood levels: the model beside the published pediatric PK, AFTER the fact.

This is a post-hoc check, not a test: the published values below were read after the v2
pre-registration (``validation/preregistered/v2.csv``) was committed, and that pre-registered test
of the earlier model failed (its comparison stays in ``validation/results/v2-s20261125``). The
model checked here differs from that one by the cream load children usually apply (pk.toml
``g_per_cm2_child``, 0.81 mg/cm2 per application, from the amount used in the pediatric
maximum-use trial's design), a number about how much cream is used, not a blood level or a
response. No number of these rows informs any parameter (calibration/targets.py refuses these
studies as targets). The rows are what the dose planner's chance above 281 nM must be consistent
with (issue 12, issue 17):

* TRuE-AD3, active arms: children above 281 nM at any plasma sample of weeks 0-8 (0 reported,
  U: read from "remained below the myelosuppression threshold");
* TRuE-AD3, each active arm: trial mean of the steady-state level; the only published figure is
  an upper bound of the means ("no greater than 27 nM", U), so a row is consistent when its 90 %
  interval reaches 27 nM or below;
* the pediatric maximum-use trial (58 % BSA, 8.5 g/day): trial mean Css, 98.2 nM (C), under the
  phase 3 absorption that every clinical prediction uses, and under the maximum-use design's own
  absorption (the pre-registered choice, eta_maxuse) for reference.

Each row is a 90 % prediction interval over replicate trials of the published size, with
posterior uncertainty, made with the pre-registration's own functions (preregister_v2).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dermsim.calibration.posterior import Posterior
from dermsim.calibration.preregister_v2 import N_DRAWS, N_REPLICATES, predict_peds_maxuse, predict_true_ad3
from dermsim.calibration.validate import VALIDATION_DATA, compute_pi90, write_csv

CHILDREN_PK_FILE = "children_pk.csv"
CHILDREN_PK_COLUMNS = ("study", "arm", "quantity", "visit", "absorption", "pred_median", "pi90_low",
                       "pi90_high", "observed", "comparison", "consistent", "status", "source",
                       "posterior_version")


def _observed() -> dict[str, tuple[float, str, str]]:
    """(value, status, source) of each published figure, from the evidence library."""
    from dermsim.evidence import get_trial
    from dermsim.evidence.preregistered_outcomes import load_preregistered_outcomes

    out = load_preregistered_outcomes()
    above = out.find("true-ad3", "active", "n_above_281nM")
    css = out.find("peds-maxuse", "rux150bid", "css_mean_nM")
    bound = get_trial("true-ad3").facts["pk_mean_css_nM"]
    if above is None or css is None or above.number is None or css.number is None or bound.number is None:
        raise LookupError("the published pediatric PK figures are missing from the evidence library")
    return {"n_above": (float(above.number), above.status, above.source),
            "peds_css": (float(css.number), css.status, css.source),
            "ad3_css_bound": (float(bound.number), bound.status, bound.source)}


def compute_children_pk(post: Posterior, seed: int, *, n_draws: int = N_DRAWS,
                        n_replicates: int = N_REPLICATES,
                        pools: tuple[int, int] = (300, 600)) -> list[dict[str, Any]]:
    """The rows of the module docstring for posterior ``post``."""
    obs = _observed()
    rows: list[dict[str, Any]] = []

    def add(study: str, arm: str, quantity: str, visit: str, absorption: str, x: np.ndarray,
            key: str, comparison: str) -> None:
        med, lo, hi = compute_pi90(x)
        value, status, source = obs[key]
        ok = lo <= value <= hi if comparison == "equal" else lo <= value
        rows.append({"study": study, "arm": arm, "quantity": quantity, "visit": visit,
                     "absorption": absorption, "pred_median": med, "pi90_low": lo, "pi90_high": hi,
                     "observed": value, "comparison": comparison, "consistent": bool(ok), "status": status,
                     "source": source, "posterior_version": post.version})

    ad3 = predict_true_ad3(post, seed, n_draws=n_draws, n_replicates=n_replicates, n_pool=pools[1],
                           with_css=True)
    add("true-ad3", "active", "n_above_281nM", "Weeks 0-8", "phase 3", ad3[("active", "n_above_281nM")],
        "n_above", "equal")
    for arm in ("rux075", "rux150"):
        add("true-ad3", arm, "css_mean_nM", "Weeks 4 and 8", "phase 3", ad3[(arm, "css_mean_nM")],
            "ad3_css_bound", "at most")
    for design, label in (("", "phase 3"), ("maxuse", "maximum-use design (eta_maxuse)")):
        peds = predict_peds_maxuse(post, seed, n_draws=n_draws, n_replicates=n_replicates, n_pool=pools[0],
                                   design_class=design)
        add("peds-maxuse", "rux150bid", "css_mean_nM", "Weeks 0-4", label, peds["css_mean_nM"], "peds_css",
            "equal")
    return rows


def write_children_pk(rows: list[dict[str, Any]], out_dir: str | Path) -> Path:
    fmt = [{k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    return write_csv(Path(out_dir) / CHILDREN_PK_FILE, CHILDREN_PK_COLUMNS, fmt)


def read_children_pk(version: str | None = None) -> list[dict[str, str]]:
    """The committed rows of the shipped posterior (or ``version``); [] where there are none."""
    from dermsim.calibration.posterior import DEFAULT_VERSION

    path = VALIDATION_DATA / "results" / (version or DEFAULT_VERSION) / CHILDREN_PK_FILE
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class PredictedRow:
    """One committed row: the model's 90 % interval beside the published value."""

    pred_median: float
    pi90_low: float
    pi90_high: float
    observed: float
    consistent: bool

    @classmethod
    def from_csv(cls, r: dict[str, str]) -> PredictedRow:
        return cls(float(r["pred_median"]), float(r["pi90_low"]), float(r["pi90_high"]), float(r["observed"]),
                   r["consistent"] == "True")


@dataclass(frozen=True)
class ChildrenCheck:
    """What the dose card and the family sheet state: TRuE-AD3 children above 281 nM (``above``),
    the pediatric maximum-use mean (``peds``), both under phase 3 absorption (the clinic's), and
    whether every phase 3 row is consistent with its published value."""

    above: PredictedRow
    peds: PredictedRow
    all_consistent: bool

    @property
    def over_predicts_above(self) -> bool:
        """The published count lies below the model's interval (the model expects too many)."""
        return self.above.observed < self.above.pi90_low


def children_check(rows: list[dict[str, str]]) -> ChildrenCheck | None:
    """The check in ``rows`` (:func:`read_children_pk`), or None where they hold no phase 3 rows."""
    phase3 = [r for r in rows if r["absorption"] == "phase 3"]
    above = [r for r in phase3 if r["quantity"] == "n_above_281nM"]
    peds = [r for r in phase3 if r["study"] == "peds-maxuse"]
    if not above or not peds:
        return None
    return ChildrenCheck(PredictedRow.from_csv(above[0]), PredictedRow.from_csv(peds[0]),
                         all(r["consistent"] == "True" for r in phase3))


def children_pk_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The summary section (markdown)."""
    lines = ["## Children's blood levels, post hoc (not pre-registered)", "",
             "Published after the v2 pre-registration; the model differs from the pre-registered one by the "
             "cream load children use (pk.toml g_per_cm2_child). A check of consistency, not a held-out "
             "test.", "",
             "| study | arm | quantity | absorption | predicted median | 90% PI | published | consistent |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        bound = "<= " if r["comparison"] == "at most" else ""
        pub = f"{bound}{float(r['observed']):g} ({r['status']}, {r['source']})"
        lines.append(f"| {r['study']} | {r['arm']} | {r['quantity']} | {r['absorption']} | "
                     f"{float(r['pred_median']):.3g} | "
                     f"{float(r['pi90_low']):.3g}-{float(r['pi90_high']):.3g} | "
                     f"{pub} | {'yes' if r['consistent'] else 'NO'} |")
    return lines


__all__ = ["CHILDREN_PK_COLUMNS", "ChildrenCheck", "PredictedRow", "children_check", "children_pk_lines",
           "compute_children_pk", "read_children_pk", "write_children_pk"]
