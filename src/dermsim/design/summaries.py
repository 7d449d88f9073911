"""Operating characteristics from per-replicate results, each with its Monte-Carlo SE.

Per design and hypothesis: the rejection rate under the fixed-sequence rule (power, or type I
error for a null design, where every arm gets the vehicle), the marginal rejection rate without
multiplicity, the distribution of the estimate (mean, SD = empirical SE, quantiles), the mean
model SE, and where the true effect is known (binomial designs) bias and CI coverage. Per design:
probability of success (the first hypothesis of the sequence rejected) and of all hypotheses.
Monte-Carlo SEs: ``sqrt(p (1 - p) / R)`` for rates, ``SD / sqrt(R)`` for the mean estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dermsim.design.spec import AnyDesign, DesignSpec
from dermsim.errors import InvalidInputError

__all__ = ["compute_mcse_proportion", "summarise_designs", "summarise_operating_characteristics"]


def compute_mcse_proportion(rate: np.ndarray | float, n_replicates: np.ndarray | int) -> np.ndarray:
    """Monte-Carlo SE of a simulated rate over ``n_replicates`` independent replicates."""
    p = np.asarray(rate, dtype=float)
    r = np.asarray(n_replicates, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(p * (1.0 - p) / r)


def _null_ids(designs: Sequence[AnyDesign] | None) -> set[str]:
    return {d.id for d in designs or () if isinstance(d, DesignSpec) and d.null}


def summarise_operating_characteristics(
    results: pd.DataFrame, designs: Sequence[AnyDesign] | None = None, *, truth: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per (design_id, hypothesis) (module docstring). ``truth``: rows (design_id,
    hypothesis, truth) for designs whose replicates carry none (model-based designs; see
    :func:`dermsim.design.truth.estimate_true_effects`)."""
    need = {
        "design_id",
        "replicate",
        "hypothesis",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "p_value",
        "reject",
        "success",
        "truth",
    }
    missing = need - set(results.columns)
    if missing:
        raise InvalidInputError(f"results must have columns {sorted(need)}; missing {sorted(missing)}.")
    if results.empty:
        raise InvalidInputError("results must hold at least one replicate; got none.")
    df = results.copy()
    if truth is not None and len(truth):
        key = truth.set_index(["design_id", "hypothesis"])["truth"]
        given = pd.MultiIndex.from_frame(df[["design_id", "hypothesis"]]).map(key.get)
        df["truth"] = np.where(df["truth"].isna(), np.asarray(given, dtype=float), df["truth"])
    df["covered"] = (df["ci_lower"] <= df["truth"]) & (df["truth"] <= df["ci_upper"])
    df["bias"] = df["estimate"] - df["truth"]
    g = df.groupby(["design_id", "hypothesis"], sort=False)
    out = g.agg(
        endpoint=("endpoint", "first"),
        treatment=("treatment", "first"),
        control=("control", "first"),
        n_replicates=("replicate", "nunique"),
        rejection_rate=("success", "mean"),
        marginal_rejection_rate=("reject", "mean"),
        mean_estimate=("estimate", "mean"),
        empirical_se=("estimate", "std"),
        q025_estimate=("estimate", lambda s: s.quantile(0.025)),
        median_estimate=("estimate", "median"),
        q975_estimate=("estimate", lambda s: s.quantile(0.975)),
        mean_se=("se", "mean"),
        truth=("truth", "first"),
        bias=("bias", "mean"),
        coverage=("covered", "mean"),
    ).reset_index()
    r = out["n_replicates"].to_numpy(float)
    out["rejection_rate_mcse"] = compute_mcse_proportion(out["rejection_rate"], r)
    out["marginal_rejection_rate_mcse"] = compute_mcse_proportion(out["marginal_rejection_rate"], r)
    out["mean_estimate_mcse"] = out["empirical_se"] / np.sqrt(r)
    known = np.isfinite(out["truth"].to_numpy(float))
    out["bias_mcse"] = np.where(known, out["mean_estimate_mcse"], np.nan)
    out.loc[~known, ["bias", "coverage"]] = np.nan
    out["coverage_mcse"] = np.where(known, compute_mcse_proportion(out["coverage"], r), np.nan)
    nulls = _null_ids(designs)
    out["null"] = out["design_id"].isin(nulls)
    out["characteristic"] = np.where(out["null"], "type I error", "power")
    if designs is not None:
        order = {d.id: i for i, d in enumerate(designs)}
        out = out.sort_values(
            ["design_id", "hypothesis"],
            key=lambda s: s.map(order) if s.name == "design_id" else s,
            ignore_index=True,
        )
    return out


def summarise_designs(results: pd.DataFrame, designs: Sequence[AnyDesign] | None = None) -> pd.DataFrame:
    """One row per design: probability of success (primary rejected), of all hypotheses, with MC SEs."""
    first = results[results["hypothesis"] == 0].groupby("design_id", sort=False)
    last_h = results.groupby("design_id")["hypothesis"].transform("max")
    last = results[results["hypothesis"] == last_h].groupby("design_id", sort=False)
    out = pd.DataFrame(
        {
            "n_replicates": first["replicate"].nunique(),
            "probability_of_success": first["success"].mean(),
            "all_hypotheses_success": last["success"].mean(),
            "mean_primary_estimate": first["estimate"].mean(),
        }
    ).reset_index()
    r = out["n_replicates"].to_numpy(float)
    out["probability_of_success_mcse"] = compute_mcse_proportion(out["probability_of_success"], r)
    out["all_hypotheses_success_mcse"] = compute_mcse_proportion(out["all_hypotheses_success"], r)
    by_id = {d.id: d for d in designs or ()}
    out["n_total"] = [getattr(by_id.get(i), "n_total", np.nan) for i in out["design_id"]]
    out["null"] = out["design_id"].isin(_null_ids(designs))
    if designs is not None:
        order = {d.id: i for i, d in enumerate(designs)}
        out = out.sort_values("design_id", key=lambda s: s.map(order), ignore_index=True)
    return out
