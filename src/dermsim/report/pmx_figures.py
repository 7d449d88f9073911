"""Pharmacometric figures (issue 18): the visual predictive check, the tornado of a local
sensitivity analysis and the Sobol' indices of a global one. Built without pyplot, like
:mod:`dermsim.report.figures` (whose ``save_figure`` writes them with fixed metadata)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dermsim.errors import DataValidationError
from dermsim.report.figures import _RC, ARM_COLOURS

__all__ = ["plot_sobol", "plot_tornado", "plot_vpc"]


def _need(frame: pd.DataFrame, cols: set[str], what: str) -> None:
    if not cols <= set(frame.columns):
        raise DataValidationError(f"figure {what}: needs columns {', '.join(sorted(cols))}; "
                                  f"got {', '.join(map(str, frame.columns))}.")


def plot_vpc(vpc: pd.DataFrame) -> Figure:
    """Prediction bands (5-95 % of simulated trials) and medians by visit week, one panel per
    trial x endpoint, one colour per arm; observed results as points (filled: inside the band)."""
    _need(vpc, {"trial", "arm", "endpoint", "week", "pred_median", "pi05", "pi95", "observed"}, "vpc")
    trials = list(dict.fromkeys(vpc["trial"]))
    endpoints = list(dict.fromkeys(vpc["endpoint"]))
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(3.4 * len(trials), 2.8 * len(endpoints)), layout="constrained")
        axes = fig.subplots(len(endpoints), len(trials), squeeze=False, sharex=True, sharey=True)
        for r, ep in enumerate(endpoints):
            for c, trial in enumerate(trials):
                ax = axes[r][c]
                part = vpc[(vpc["trial"] == trial) & (vpc["endpoint"] == ep)]
                for i, (arm, grp) in enumerate(part.groupby("arm", sort=False)):
                    colour = ARM_COLOURS[i % len(ARM_COLOURS)]
                    g = grp.sort_values("week")
                    ax.fill_between(g["week"], g["pi05"], g["pi95"], color=colour, alpha=0.18, lw=0)
                    ax.plot(g["week"], g["pred_median"], color=colour, lw=1.2, label=f"{arm} simulated")
                    seen = g.dropna(subset=["observed"])
                    if len(seen):
                        inside = (seen["observed"] >= seen["pi05"]) & (seen["observed"] <= seen["pi95"])
                        ax.scatter(seen["week"], seen["observed"], s=28, zorder=3, edgecolors=colour,
                                   facecolors=np.where(inside, colour, "white"), label=f"{arm} observed")
                ax.set_title(f"{trial}: {ep}", fontsize=9)
                ax.set_ylim(0, 100)
                ax.grid(alpha=0.3)
                if r == len(endpoints) - 1:
                    ax.set_xlabel("Week")
                if c == 0:
                    ax.set_ylabel("Responders, % (90% prediction band)")
        axes[0][-1].legend(frameon=False, fontsize=7, loc="upper left")
    return fig


def plot_tornado(frame: pd.DataFrame, output_label: str, top: int = 12) -> Figure:
    """Output at each parameter's 5 % and 95 % posterior quantile (others at the median), largest
    swing on top."""
    _need(frame, {"parameter", "output_low", "output_high", "output_median"}, "tornado")
    part = frame.head(top).iloc[::-1]
    mid = float(part["output_median"].iloc[0]) if len(part) else 0.0
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(5.6, 0.32 * len(part) + 1.2), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(part))
        ax.barh(y, part["output_low"] - mid, left=mid, color="#0072B2", label="at 5% quantile")
        ax.barh(y, part["output_high"] - mid, left=mid, color="#E69F00", alpha=0.8, label="at 95% quantile")
        ax.axvline(mid, color="black", lw=0.7)
        ax.set_yticks(y, part["parameter"])
        ax.set_xlabel(f"{output_label} (posterior median {mid:.3g})")
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3, axis="x")
    return fig


def plot_sobol(frame: pd.DataFrame, output_label: str, top: int = 12) -> Figure:
    """First-order (S1) and total (ST) Sobol' indices with 95 % bootstrap intervals, largest ST first."""
    _need(frame, {"parameter", "S1", "S1_conf", "ST", "ST_conf"}, "sobol")
    part = frame.sort_values("ST", ascending=False, kind="stable").head(top)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(max(4.0, 0.45 * len(part) + 1.5), 3.2), layout="constrained")
        ax = fig.add_subplot()
        x = np.arange(len(part))
        ax.bar(x - 0.2, part["S1"], 0.4, yerr=part["S1_conf"], capsize=2, color="#0072B2",
               label="first order S1")
        ax.bar(x + 0.2, part["ST"], 0.4, yerr=part["ST_conf"], capsize=2, color="#E69F00", label="total ST")
        ax.set_xticks(x, part["parameter"], rotation=45, ha="right")
        ax.set_ylabel("Sobol' index")
        ax.set_title(output_label, fontsize=9)
        ax.set_ylim(0, max(1.0, float((part["ST"] + part["ST_conf"]).max()) if len(part) else 1.0))
        ax.legend(frameon=False, fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    return fig
