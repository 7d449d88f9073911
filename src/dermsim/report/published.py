"""Simulated results set beside the published ones (evidence library) and the validation ladder.

Only joins: the simulated numbers are ARD rows, the published ones are evidence records with their
status and source, the predictive intervals come from the calibration's pre-registration and
validation files. Nothing here estimates anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dermsim.errors import DataValidationError, InvalidInputError

__all__ = ["ENDPOINT_ANALYSES", "collect_validation_points", "compare_with_published", "comparison_points"]

# published endpoint name (evidence) -> analysis id of the built-in AD plan
ENDPOINT_ANALYSES: dict[str, str] = {"IGA-TS": "iga-ts-w8", "EASI-75": "easi75-w8", "NRS4": "nrs4-w8"}

COMPARISON_COLUMNS = (
    "endpoint",
    "analysis_id",
    "arm",
    "evidence_arm",
    "simulated_pct",
    "sim_ci_low",
    "sim_ci_high",
    "published_pct",
    "published_p",
    "status",
    "source",
    "note",
    "prereg_median_pct",
    "prereg_low_pct",
    "prereg_high_pct",
)


def _arm_stats(ard: pd.DataFrame, analysis_id: str, arm: str) -> dict[str, float]:
    sel = ard[(ard["analysis_id"] == analysis_id) & (ard["group_level"] == arm) & (ard["comparator"] == "")]
    return dict(zip(sel["stat_name"], sel["stat_value"].astype(float), strict=True))


def compare_with_published(
    ard: pd.DataFrame,
    trial_id: str,
    arm_strengths: Mapping[str, float],
    *,
    prereg: pd.DataFrame | None = None,
    endpoints: Mapping[str, str] = ENDPOINT_ANALYSES,
) -> pd.DataFrame:
    """One row per (endpoint, arm): the simulated rate with its 95% CI (ARD), the published rate
    with its status (C confirmed, D derived, U unconfirmed, NF not found) and source, and where a
    pre-registered predictive interval exists, that interval (percent).

    ``arm_strengths`` maps the ARD group label of each arm to its cream strength (%), which is how
    a simulated arm is matched to the published one.
    """
    from dermsim.evidence import get_trial

    try:
        trial = get_trial(trial_id)
    except (KeyError, InvalidInputError):
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    by_strength = {float(a.strength_pct): a.id for a in trial.arms}
    rows = []
    for endpoint, aid in endpoints.items():
        if not (ard["analysis_id"] == aid).any():
            continue
        for arm, strength in arm_strengths.items():
            ev_arm = by_strength.get(float(strength))
            st = _arm_stats(ard, aid, arm)
            if not st or ev_arm is None:
                continue
            pub = trial.results(endpoint, arm=ev_arm, visit_week=8.0)
            rec = pub[0] if pub else None
            pre = None
            if prereg is not None and len(prereg):
                m = prereg[(prereg["arm"] == ev_arm) & (prereg["endpoint"] == endpoint)]
                pre = m.iloc[0] if len(m) else None
            rows.append(
                {
                    "endpoint": endpoint,
                    "analysis_id": aid,
                    "arm": arm,
                    "evidence_arm": ev_arm,
                    "simulated_pct": 100 * st.get("estimate", math.nan),
                    "sim_ci_low": 100 * st.get("ci_lower", math.nan),
                    "sim_ci_high": 100 * st.get("ci_upper", math.nan),
                    "published_pct": (
                        rec.value_pct if rec is not None and rec.value_pct is not None else math.nan
                    ),
                    "published_p": (rec.p_value or "") if rec is not None else "",
                    "status": rec.status if rec is not None else "NF",
                    "source": rec.source if rec is not None else "",
                    "note": (getattr(rec, "note", "") or "")
                    if rec is not None
                    else "not in the evidence library",
                    "prereg_median_pct": 100 * float(pre["pred_median"]) if pre is not None else math.nan,
                    "prereg_low_pct": 100 * float(pre["pi90_low"]) if pre is not None else math.nan,
                    "prereg_high_pct": 100 * float(pre["pi90_high"]) if pre is not None else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def collect_validation_points(validation_csv: str | Path | None) -> pd.DataFrame | None:
    """The validation ladder's rows (``validation.csv`` written by
    :func:`dermsim.calibration.validate.run_validation`) as figure points: cross-predicted
    calibration trials ("calibration") and the held-out TRuE-AD3 ("held-out"), in percent.
    None when there is no such file yet."""
    if validation_csv is None or not Path(validation_csv).is_file():
        return None
    df = pd.read_csv(validation_csv)
    if "target" in df.columns:
        return _validation_points_v2(Path(validation_csv), df)
    need = {"step", "trial", "arm", "endpoint", "observed", "pred_median", "pi90_low", "pi90_high"}
    if not need <= set(df.columns):
        raise DataValidationError(f"{validation_csv}: columns must include {', '.join(sorted(need))}.")
    df = df[df["step"].astype(str).str[0].isin(["a", "b"])]
    kind = df["step"].astype(str).str[0].map({"a": "calibration", "b": "held-out"})
    return pd.DataFrame(
        {
            "label": df["trial"] + " " + df["arm"] + " " + df["endpoint"],
            "kind": kind,
            "published": 100 * pd.to_numeric(df["observed"], errors="coerce"),
            "simulated": 100 * pd.to_numeric(df["pred_median"], errors="coerce"),
            "sim_low": 100 * pd.to_numeric(df["pi90_low"], errors="coerce"),
            "sim_high": 100 * pd.to_numeric(df["pi90_high"], errors="coerce"),
        }
    ).reset_index(drop=True)


def _validation_points_v2(validation_csv: Path, df: pd.DataFrame) -> pd.DataFrame:
    """Second-version validation: the predictive check of the calibration trials' responder rates
    ("calibration") and, from the sibling ``comparison.csv``, each pre-registered percentage with a
    published outcome ("held-out"), in percent."""
    parts = df["target"].astype(str).str.split("/", expand=True)
    resp = df[parts[0].isin(["true-ad1", "true-ad2"]) & (parts.shape[1] > 3)]
    p = parts.loc[resp.index]
    pts = [pd.DataFrame({"label": p[0] + " " + p[1] + " " + p[2], "kind": "calibration",
                         **{k: 100 * pd.to_numeric(resp[c], errors="coerce") for k, c in
                            (("published", "observed"), ("simulated", "pred_median"),
                             ("sim_low", "pi90_low"), ("sim_high", "pi90_high"))}})]
    comparison = validation_csv.with_name("comparison.csv")
    if comparison.is_file():
        c = pd.read_csv(comparison)
        known = pd.to_numeric(c["observed"], errors="coerce").notna()
        c = c[c["quantity"].astype(str).str.endswith("_pct") & known]
        pts.append(pd.DataFrame({"label": c["study"] + " " + c["arm"] + " " + c["quantity"],
                                 "kind": "held-out",
                                 **{k: pd.to_numeric(c[col], errors="coerce") for k, col in
                                    (("published", "observed"), ("simulated", "pred_median"),
                                     ("sim_low", "pi90_low"), ("sim_high", "pi90_high"))}}))
    return pd.concat(pts, ignore_index=True)


def comparison_points(comparison: pd.DataFrame, validation: pd.DataFrame | None = None) -> pd.DataFrame:
    """Figure points: this run's arms against the published values (95% CI), plus the ladder's."""
    pts = pd.DataFrame(
        {
            "label": comparison["endpoint"] + " " + comparison["arm"],
            "kind": "this run",
            "published": comparison["published_pct"],
            "simulated": comparison["simulated_pct"],
            "sim_low": comparison["sim_ci_low"],
            "sim_high": comparison["sim_ci_high"],
        }
    )
    if validation is not None and len(validation):
        pts = pd.concat([validation, pts], ignore_index=True)
    return pts
