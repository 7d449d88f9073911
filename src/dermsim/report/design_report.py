"""Design report: power curves with Monte-Carlo bands, the distribution of the primary estimate,
and one self-contained HTML page (figures embedded as base64 PNG) from an operating-characteristics run.

Numbers come from :mod:`dermsim.design.summaries`; this module only lays them out and rounds
them through :mod:`dermsim.report.format` (half away from zero).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dermsim._atomic import atomic_path
from dermsim.report.format import fmt_num, fmt_pct
from dermsim.report.templating import render_template, safe

__all__ = [
    "export_design_report",
    "plot_estimate_distribution",
    "plot_power_curve",
    "render_design_report",
    "save_figure",
]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_power_curve(
    summary: pd.DataFrame,
    *,
    target_power: float | None = None,
    fitted: Any = None,
    title: str = "Power by total sample size",
):
    """Rejection rate (fixed-sequence) against ``n_total`` per hypothesis, with +-1.96 MC-SE bands.

    ``summary``: :func:`dermsim.design.summaries.summarise_operating_characteristics` rows joined
    with an ``n_total`` column; ``fitted``: an object with ``power(n)`` (the sample-size fit).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.0, 4.2), dpi=110)
    for i, ((hyp, label), part) in enumerate(summary.groupby(["hypothesis", "label"], sort=True)):
        part = part.sort_values("n_total")
        n = part["n_total"].to_numpy(float)
        p = part["rejection_rate"].to_numpy(float)
        se = part["rejection_rate_mcse"].to_numpy(float)
        colour = _COLOURS[i % len(_COLOURS)]
        ax.fill_between(
            n,
            np.clip(p - 1.96 * se, 0, 1),
            np.clip(p + 1.96 * se, 0, 1),
            color=colour,
            alpha=0.2,
            linewidth=0,
        )
        # pandas-stubs types a group key as Hashable; grouped by two columns it is (hypothesis number, label)
        ax.plot(n, p, marker="o", ms=3, color=colour, label=f"H{hyp + 1} {label}")  # pyright: ignore[reportOperatorIssue]
    if fitted is not None and len(summary):
        grid = np.linspace(summary["n_total"].min(), summary["n_total"].max(), 200)
        ax.plot(grid, fitted.power(grid), color="grey", linestyle="--", label="probit fit (H1)")
    if target_power is not None:
        ax.axhline(target_power, color="black", linewidth=0.8, linestyle=":")
    ax.set_xlabel("total sample size")
    ax.set_ylabel("rejection rate (fixed sequence)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_estimate_distribution(
    results: pd.DataFrame, design_id: str, *, hypothesis: int = 0, truth: float | None = None
):
    """Histogram of the estimated risk difference of one hypothesis over replicates."""
    plt = _pyplot()
    rows = results[(results["design_id"] == design_id) & (results["hypothesis"] == hypothesis)]
    est = rows["estimate"].to_numpy(float)
    est = est[np.isfinite(est)]
    fig, ax = plt.subplots(figsize=(6.0, 3.6), dpi=110)
    ax.hist(100 * est, bins=min(60, max(10, est.size // 50)), color=_COLOURS[0], alpha=0.85)
    if est.size:
        ax.axvline(100 * float(np.mean(est)), color="black", linewidth=1, label="mean")
    if truth is not None and np.isfinite(truth):
        ax.axvline(100 * truth, color=_COLOURS[1], linestyle="--", linewidth=1.2, label="true effect")
    ax.axvline(0, color="grey", linewidth=0.8)
    label = (
        f"{rows['endpoint'].iloc[0]} {rows['treatment'].iloc[0]} vs {rows['control'].iloc[0]}"
        if len(rows)
        else ""
    )
    ax.set_xlabel(f"risk difference, percentage points ({label})")
    ax.set_ylabel("replicates")
    ax.set_title(f"Primary estimate, {design_id} ({est.size} replicates)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def save_figure(fig: Any, path: str | Path) -> Path:
    """PNG or SVG by suffix, written atomically."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg"):
        from dermsim.errors import InvalidInputError

        raise InvalidInputError(f"path must end in .png or .svg; got {target.name!r}.")
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=fmt)
    return target


def _png_b64(fig: Any) -> str:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table(frame: pd.DataFrame) -> Any:
    """A text frame as a great_tables HTML fragment (escaped by great_tables), marked safe."""
    from great_tables import GT

    gt = GT(frame.astype(str)).cols_align("right").cols_align("left", columns=[str(frame.columns[0])])
    gt = gt.tab_options(table_font_size="12px", data_row_padding="2px")
    return safe(gt.as_raw_html(inline_css=False))


def _rate(p: float, se: float) -> str:
    return f"{fmt_pct(100 * p, 1)} ({fmt_pct(100 * se, 1)})"


_CSS = """body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#555;font-size:13px}"""


def render_design_report(
    summary: pd.DataFrame,
    designs_summary: pd.DataFrame,
    results: pd.DataFrame,
    *,
    title: str,
    setup: dict[str, Any],
    fitted: Any = None,
    target_power: float | None = None,
    sample_size: dict[str, Any] | None = None,
    primary_design: str | None = None,
) -> str:
    """The HTML page (self-contained). ``summary``/``designs_summary`` come from
    :mod:`dermsim.design.summaries`; ``setup`` is printed as the run's provenance."""
    n_of = dict(zip(designs_summary["design_id"], designs_summary["n_total"], strict=True))
    s = summary.copy()
    s["n_total"] = s["design_id"].map(n_of)
    s["label"] = s["endpoint"] + " " + s["treatment"] + " vs " + s["control"]
    ss = None
    if sample_size:
        lo, hi = sample_size["n_interval"]
        ss = {"power": fmt_pct(100 * sample_size["target_power"], 0), "n": sample_size["n_required"],
              "lo": fmt_num(lo, 0), "hi": fmt_num(hi, 0), "conservative": sample_size["n_grid_conservative"]}
    ds = pd.DataFrame(
        {
            "Design": designs_summary["design_id"],
            "N": [fmt_num(v, 0) for v in designs_summary["n_total"]],
            "Virtual trials": [fmt_num(v, 0) for v in designs_summary["n_replicates"]],
            # the null design (no true effect) gives the type I error, the others the power
            "Scenario": np.where(designs_summary["null"].astype(bool), "null (no effect)", "alternative"),
            "P(success) (MC SE), %": [
                _rate(p, e)
                for p, e in zip(
                    designs_summary["probability_of_success"],
                    designs_summary["probability_of_success_mcse"],
                    strict=True,
                )
            ],
            "All hypotheses (MC SE), %": [
                _rate(p, e)
                for p, e in zip(
                    designs_summary["all_hypotheses_success"],
                    designs_summary["all_hypotheses_success_mcse"],
                    strict=True,
                )
            ],
        }
    )
    power_png = ""
    if s["n_total"].dropna().nunique() > 1:
        fig = plot_power_curve(s[~s["null"].astype(bool)], target_power=target_power, fitted=fitted)
        power_png = _png_b64(fig)
    rows = pd.DataFrame(
        {
            "Design": s["design_id"],
            "H": s["hypothesis"] + 1,
            "Hypothesis": s["label"],
            "Characteristic": s["characteristic"],
            "Rate (MC SE), %": [
                _rate(p, e) for p, e in zip(s["rejection_rate"], s["rejection_rate_mcse"], strict=True)
            ],
            "No multiplicity, %": [fmt_pct(100 * p, 1) for p in s["marginal_rejection_rate"]],
            "Mean RD, pp": [fmt_num(100 * v, 1) for v in s["mean_estimate"]],
            "Empirical SE, pp": [fmt_num(100 * v, 2) for v in s["empirical_se"]],
            "Mean model SE, pp": [fmt_num(100 * v, 2) for v in s["mean_se"]],
            "Bias, pp": [fmt_num(100 * v, 2, missing="-") for v in s["bias"]],
            "Coverage, %": [fmt_pct(100 * v, 1, missing="-") for v in s["coverage"]],
        }
    )
    primary = primary_design or str(designs_summary["design_id"].iloc[-1])
    truth = s.loc[(s["design_id"] == primary) & (s["hypothesis"] == 0), "truth"]
    fig = plot_estimate_distribution(results, primary, truth=float(truth.iloc[0]) if len(truth) else None)
    return render_template(
        "design_report.html",
        title=title,
        css=safe(_CSS),
        setup=[(str(k), str(v)) for k, v in setup.items()],
        sample_size=ss,
        designs=_table(ds),
        power_png=power_png,
        hypotheses=_table(rows),
        estimate_png=_png_b64(fig),
    )


def export_design_report(page: str, path: str | Path) -> Path:
    """Write the HTML page atomically."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target

