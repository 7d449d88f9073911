"""Figures of the report (matplotlib, PNG and SVG), drawn from the ARD and from model outputs only.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global state,
safe in threads); :func:`save_figure` writes PNG and SVG with fixed metadata so that the same
inputs give the same bytes. Colours: Okabe-Ito, readable by colour-blind readers; the arms keep
one colour across figures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from dermsim._atomic import atomic_path
from dermsim.errors import DataValidationError, NotEstimableError
from dermsim.report.format import fmt_n_pct, fmt_num

__all__ = [
    "ARM_COLOURS",
    "plot_change_by_visit",
    "plot_consort",
    "plot_css_distribution",
    "plot_forest",
    "plot_km",
    "plot_not_estimable",
    "plot_responders_over_time",
    "plot_simulated_vs_published",
    "plot_tipping_point",
    "save_figure",
]

# Okabe-Ito: vehicle grey, then orange, blue, green ...
ARM_COLOURS = ("#7f7f7f", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")
_WEEK = re.compile(r"(?i)week\s*(\d+(?:\.\d+)?)")
_RC = {
    "svg.hashsalt": "dermsim",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


def _legend(ax: Any, **kw: Any) -> None:
    """A legend where the axes have labelled artists (a tiny trial may draw none: matplotlib would
    warn, and the test suite treats warnings as errors)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _arms(ard: pd.DataFrame) -> list[str]:
    vals = ard.loc[(ard["comparator"] == "") & (ard["group_level"] != ""), "group_level"]
    return list(dict.fromkeys(vals))


def _colour(arms: Sequence[str], control: str) -> dict[str, str]:
    order = [control, *[a for a in arms if a != control]] if control in arms else list(arms)
    return {a: ARM_COLOURS[i % len(ARM_COLOURS)] for i, a in enumerate(order)}


def _control(part: pd.DataFrame) -> str:
    comp = part.loc[part["comparator"] != "", "comparator"]
    return str(comp.iloc[0]) if len(comp) else ""


def _week(visit: str, i: int) -> float:
    m = _WEEK.search(visit)
    return float(m.group(1)) if m else float(i)


def _part(ard: pd.DataFrame, analysis_id: str) -> pd.DataFrame:
    part = ard[ard["analysis_id"] == analysis_id]
    if part.empty:
        raise DataValidationError(f"figure: analysis {analysis_id!r} is not in the ARD.")
    return part


# statistics the figures read: present as columns even when no value could be estimated (a small
# trial), so a panel shows what there is instead of failing on a missing column
_FIGURE_STATS = ("estimate", "ci_lower", "ci_upper", "pct", "count", "n", "lsmean", "se")


def _pivot(part: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    tab = part.pivot_table(
        index=index, columns="stat_name", values="stat_value", aggfunc="first", sort=False
    )
    missing = [c for c in _FIGURE_STATS if c not in tab.columns]
    return tab.reindex(columns=[*tab.columns, *missing]) if missing else tab


def plot_responders_over_time(
    ard: pd.DataFrame,
    analysis_id: str = "iga-ts-by-visit",
    *,
    ylabel: str = "IGA treatment success, % (95% CI)",
    published: Mapping[str, tuple[str, float]] | None = None,
) -> Figure:
    """Response rate per arm by visit with its 95% CI as a band; ``published`` (arm -> (visit,
    percent)) adds the published value of an arm as an open diamond."""
    part = _part(ard, analysis_id)
    own = part[(part["comparator"] == "") & (part["group_level"] != "")]
    tab = _pivot(own, ["group_level", "visit"])
    arms, colours = _arms(own), _colour(_arms(own), _control(part))
    visits = list(dict.fromkeys(own["visit"]))
    x = {v: _week(v, i) for i, v in enumerate(visits)}
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.4, 3.8), layout="constrained")
        ax = fig.add_subplot()
        for arm in arms:
            t = tab.loc[arm].reindex(visits)
            xs = [x[v] for v in visits]
            ax.fill_between(
                xs, 100 * t["ci_lower"], 100 * t["ci_upper"], color=colours[arm], alpha=0.18, lw=0
            )
            ax.plot(xs, 100 * t["estimate"], marker="o", color=colours[arm], label=arm)
        shown = False
        for arm, (visit, pct) in (published or {}).items():
            if arm in colours and visit in x and np.isfinite(pct):
                ax.plot(
                    [x[visit]],
                    [pct],
                    marker="D",
                    ms=8,
                    mfc="none",
                    mew=1.6,
                    ls="none",
                    color=colours[arm],
                )
                shown = True
        if shown:  # one neutral legend entry for all arms' published values
            ax.plot(
                [], [], marker="D", ms=8, mfc="none", mew=1.6, ls="none", color="black", label="published"
            )
        ax.set_xticks([x[v] for v in visits], visits)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 100)
        _legend(ax, frameon=False, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
    return fig


def plot_change_by_visit(ard: pd.DataFrame, panels: Mapping[str, str] | None = None) -> Figure:
    """LS mean change per arm by visit with 95% CI, one panel per analysis (EASI % change, itch NRS)."""
    panels = dict(
        panels
        or {
            "easi-pchg": "EASI, LS mean % change from baseline",
            "nrs-chg": "Itch NRS, LS mean change from baseline",
        }
    )
    present = {k: v for k, v in panels.items() if (ard["analysis_id"] == k).any()}
    if not present:
        raise DataValidationError(f"figure: none of the analyses {', '.join(panels)} is in the ARD.")
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(3.4 * len(present) + 0.4, 3.6), layout="constrained")
        axes = fig.subplots(1, len(present), squeeze=False)[0]
        for ax, (aid, label) in zip(axes, present.items(), strict=True):
            part = _part(ard, aid)
            own = part[
                (part["comparator"] == "")
                & (part["group_level"] != "")
                & part["stat_name"].isin(["lsmean", "ci_lower", "ci_upper"])
            ]
            tab = _pivot(own, ["group_level", "visit"])
            arms = _arms(own)
            colours = _colour(arms, _control(part))
            visits = list(dict.fromkeys(own["visit"]))
            xs = np.array([_week(v, i) for i, v in enumerate(visits)])
            for k, arm in enumerate(arms):
                t = tab.loc[arm].reindex(visits)
                m, lo, hi = (t[c].to_numpy(float) for c in ("lsmean", "ci_lower", "ci_upper"))
                dx = (k - (len(arms) - 1) / 2) * 0.12
                ax.errorbar(
                    xs + dx,
                    m,
                    yerr=[m - lo, hi - m],
                    marker="o",
                    ms=4,
                    capsize=2,
                    color=colours[arm],
                    label=arm,
                )
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xticks(xs, visits)
            ax.set_title(label, fontsize=9)
            ax.grid(axis="y", alpha=0.3)
        _legend(axes[0], frameon=False, loc="lower left", fontsize=8)
    return fig


def plot_forest(
    ard: pd.DataFrame,
    subgroup_id: str = "iga-ts-w8-subgroups",
    overall_id: str = "iga-ts-w8",
    *,
    xlabel: str = "Difference in IGA-TS vs vehicle at Week 8, % (95% CI)",
) -> Figure:
    """Forest plot: risk difference vs control with 95% CI, overall and per subgroup level, per arm."""
    from dermsim.report.tables import population_label

    rows: list[tuple[str, str, float, float, float]] = []
    for aid, overall in ((overall_id, True), (subgroup_id, False)):
        part = ard[
            (ard["analysis_id"] == aid)
            & (ard["comparator"] != "")
            & ard["stat_name"].isin(["estimate", "ci_lower", "ci_upper"])
            & ~ard["variable_level"].str.startswith("interaction")  # Breslow-Day homogeneity rows
        ]
        if part.empty:
            continue
        tab = _pivot(part, ["population", "group_level"])
        # pandas-stubs types a row label as Hashable; this pivot's index is (population, group_level)
        for (pop, arm), r in tab.iterrows():  # pyright: ignore[reportGeneralTypeIssues]
            label = (
                "Overall"
                if overall
                else population_label(str(pop), {"AGEGR1": "Age", "IGABL": "Baseline IGA"})
            )
            rows.append((label, str(arm), 100 * r["estimate"], 100 * r["ci_lower"], 100 * r["ci_upper"]))
    if not rows:
        raise NotEstimableError(f"analyses {overall_id!r} and {subgroup_id!r} hold no comparisons (too few "
                                "subjects per arm and stratum)")
    labels = list(dict.fromkeys(r[0] for r in rows))
    arms = list(dict.fromkeys(r[1] for r in rows))
    control = _control(
        ard[ard["analysis_id"] == (overall_id if (ard["analysis_id"] == overall_id).any() else subgroup_id)]
    )
    colours = _colour([control, *arms], control)
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.4, 0.45 * len(labels) * len(arms) + 1.2), layout="constrained")
        ax = fig.add_subplot()
        ypos = {lab: i for i, lab in enumerate(labels)}
        for k, arm in enumerate(arms):
            sel = [r for r in rows if r[1] == arm]
            y = np.array([ypos[r[0]] for r in sel]) + (k - (len(arms) - 1) / 2) * 0.25
            est = np.array([r[2] for r in sel])
            ax.errorbar(
                est,
                y,
                xerr=[est - np.array([r[3] for r in sel]), np.array([r[4] for r in sel]) - est],
                fmt="s",
                ms=4,
                capsize=2,
                color=colours[arm],
                label=f"{arm} vs {control}",
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        _legend(ax, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=1, fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    return fig


def plot_simulated_vs_published(points: pd.DataFrame) -> Figure:
    """Simulated against published results, in percent.

    ``points`` columns: ``label``, ``kind`` (e.g. "calibration", "held-out", "this run"),
    ``published``, ``simulated``, ``sim_low``, ``sim_high`` (interval of the simulated value; NaN
    for none). The diagonal is perfect agreement.
    """
    need = {"label", "kind", "published", "simulated", "sim_low", "sim_high"}
    if not need <= set(points.columns):
        raise DataValidationError(
            f"figure: points need columns {', '.join(sorted(need))}; got {', '.join(points.columns)}."
        )
    pts = points.dropna(subset=["published", "simulated"])
    markers = {"calibration": "o", "held-out": "D", "this run": "s"}
    colours = {"calibration": "#0072B2", "held-out": "#D55E00", "this run": "#009E73"}
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(4.8, 4.6), layout="constrained")
        ax = fig.add_subplot()
        hi = (
            max(10.0, float(np.nanmax(pts[["published", "simulated", "sim_high"]].to_numpy(float))) * 1.1)
            if len(pts)
            else 100.0
        )
        ax.plot([0, hi], [0, hi], color="black", lw=0.6, ls="--", label="agreement")
        for kind, grp in pts.groupby("kind", sort=False):
            lo = (grp["simulated"] - grp["sim_low"]).clip(lower=0).fillna(0).to_numpy(float)
            up = (grp["sim_high"] - grp["simulated"]).clip(lower=0).fillna(0).to_numpy(float)
            ax.errorbar(
                grp["published"].to_numpy(float),
                grp["simulated"].to_numpy(float),
                yerr=[lo, up],
                fmt=markers.get(str(kind), "o"),
                ms=5,
                capsize=2,
                color=colours.get(str(kind), "#CC79A7"),
                label=str(kind),
            )
        ax.set_xlim(0, hi)
        ax.set_ylim(0, hi)
        ax.set_xlabel("Published, %")
        ax.set_ylabel("Simulated, % (interval)")
        _legend(ax, frameon=False, loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
    return fig


def plot_css_distribution(
    exposure: pd.DataFrame,
    threshold_nM: float,
    *,
    threshold_label: str = "281 nM: whole-blood IC50 of JAK-mediated myelosuppression",
) -> Figure:
    """Distribution of steady-state plasma concentration (nM, log scale) per active arm against a
    threshold. ``exposure`` columns: ``arm``, ``css_nM`` (rows with css_nM == 0, the vehicle, are
    left out of the log axis and counted in the caption)."""
    if not {"arm", "css_nM"} <= set(exposure.columns):
        raise DataValidationError("figure: exposure needs columns arm, css_nM.")
    pos = exposure[exposure["css_nM"] > 0]
    arms = list(dict.fromkeys(pos["arm"]))
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.4, 1.0 + 0.9 * max(len(arms), 1)), layout="constrained")
        ax = fig.add_subplot()
        if arms:
            data = [np.log10(pos.loc[pos["arm"] == a, "css_nM"].to_numpy(float)) for a in arms]
            try:  # matplotlib >= 3.10 names it orientation; vert is deprecated there
                parts = ax.violinplot(data, orientation="horizontal", showmedians=True, widths=0.8)
            except TypeError:  # pragma: no cover - matplotlib < 3.10
                parts = ax.violinplot(data, vert=False, showmedians=True, widths=0.8)
            for i, body in enumerate(parts["bodies"]):
                body.set_facecolor(ARM_COLOURS[(i + 1) % len(ARM_COLOURS)])
                body.set_alpha(0.45)
            above = [float(np.mean(10**d > threshold_nM)) * 100 for d in data]
            ax.set_yticks(
                range(1, len(arms) + 1),
                [
                    f"{a}\nmedian {fmt_num(float(np.median(10**d)), 1)} nM; {fmt_num(p, 1)}% above"
                    for a, d, p in zip(arms, data, above, strict=True)
                ],
            )
        ax.axvline(np.log10(threshold_nM), color="#D55E00", lw=1.2, ls="--", label=threshold_label)
        ticks = np.arange(-2, 4)
        ax.set_xticks(ticks, [f"{10.0**t:g}" for t in ticks])
        ax.set_xlabel("Steady-state plasma concentration, nM (log scale)")
        _legend(ax, frameon=False, loc="lower right", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    return fig


def _stat(ard: pd.DataFrame, **where: str) -> float | None:
    m = np.ones(len(ard), dtype=bool)
    for k, v in where.items():
        m &= (ard[k] == v).to_numpy()
    vals = ard.loc[m, "stat_value"]
    return float(vals.iloc[0]) if len(vals) == 1 else None


def plot_consort(ard: pd.DataFrame) -> Figure:
    """CONSORT-style flow: randomized, allocated per arm, analysed (ITT, safety), completed or
    discontinued with reasons; every number read from the ``populations`` and ``disposition`` rows."""
    pops = _part(ard, "populations")
    disp = ard[ard["analysis_id"] == "disposition"]
    arms = _arms(pops)
    total = _stat(pops, group_level="", variable="", stat_name="n")
    with mpl.rc_context(_RC):
        width = max(7.0, 2.4 * len(arms))
        fig = Figure(figsize=(width, 5.6), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)

        def box(xc: float, yc: float, text: str, w: float, h: float = 0.13) -> None:
            ax.add_patch(
                FancyBboxPatch(
                    (xc - w / 2, yc - h / 2),
                    w,
                    h,
                    boxstyle="round,pad=0.005",
                    fc="#f4f4f4",
                    ec="#333333",
                    lw=0.8,
                )
            )
            ax.text(xc, yc, text, ha="center", va="center", fontsize=7.5, wrap=True)

        def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "lw": 0.8})

        box(0.5, 0.92, f"Randomized\nN = {fmt_num(total, 0) if total is not None else 'NE'}", 0.3, 0.09)
        w = 0.9 / max(len(arms), 1)
        for i, arm in enumerate(arms):
            xc = 0.05 + w * (i + 0.5)
            n = _stat(pops, group_level=arm, variable="", stat_name="n")
            itt = _stat(pops, group_level=arm, variable="ITTFL", variable_level="Y", stat_name="count")
            saf = _stat(pops, group_level=arm, variable="SAFFL", variable_level="Y", stat_name="count")
            arrow(0.5, 0.875, xc, 0.79)
            box(xc, 0.73, f"{arm}\nallocated n = {fmt_num(n, 0) if n is not None else 'NE'}", w * 0.92, 0.11)
            d = disp[disp["group_level"] == arm]
            comp = _stat(d, variable="EOSSTT", variable_level="COMPLETED", stat_name="count")
            disc = _stat(d, variable="EOSSTT", variable_level="DISCONTINUED", stat_name="count")
            reasons = d[
                (d["variable"] == "DCSREAS") & (d["stat_name"] == "count") & (d["variable_level"] != "")
            ]
            lines = [
                f"{str(r.variable_level).capitalize()}: {fmt_num(r.stat_value, 0)}"
                for r in reasons.itertuples()
                if r.stat_value > 0  # pyright: ignore[reportOperatorIssue]  # itertuples fields are typed Scalar; ARD stat_value is float
            ]
            arrow(xc, 0.675, xc, 0.6)
            box(
                xc,
                0.47,
                f"Discontinued: {fmt_n_pct(disc, n) if disc is not None and n else 'NE'}\n"
                + "\n".join(lines[:7]),
                w * 0.92,
                0.25,
            )
            arrow(xc, 0.345, xc, 0.29)
            box(
                xc,
                0.2,
                f"Completed: {fmt_n_pct(comp, n) if comp is not None and n else 'NE'}\n"
                f"Analysed (ITT): {fmt_num(itt, 0) if itt is not None else 'NE'}\n"
                f"Safety: {fmt_num(saf, 0) if saf is not None else 'NE'}",
                w * 0.92,
                0.16,
            )
    return fig


def plot_not_estimable(title: str, reason: str) -> Figure:
    """A figure that says it could not be drawn, and why (a small trial, an empty arm): the report
    keeps its place instead of failing or dropping it silently."""
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.4, 1.6), layout="constrained")
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.6, f"{title}: not estimable", ha="center", va="center", fontsize=11, weight="bold")
        ax.text(0.5, 0.25, reason, ha="center", va="center", fontsize=9, wrap=True)
    return fig


def save_figure(fig: Figure, out_dir: str | Path, stem: str, *, dpi: int = 130) -> dict[str, Path]:
    """Write ``stem.png`` and ``stem.svg`` into ``out_dir`` (atomically, fixed metadata)."""
    out = Path(out_dir)
    paths = {"png": out / f"{stem}.png", "svg": out / f"{stem}.svg"}
    with mpl.rc_context(_RC):
        with atomic_path(paths["png"]) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
        with atomic_path(paths["svg"]) as tmp:
            fig.savefig(tmp, format="svg", metadata={"Date": None, "Creator": None})
    return paths


def plot_km(
    ard: pd.DataFrame, analysis_id: str, *, xlabel: str = "Time", ylabel: str = "Survival probability"
) -> Figure:
    """Kaplan-Meier curves per group from the ARD's step-function rows (``variable_level`` "curve":
    survival after each event time) with the numbers at risk (``at_risk``) in a table under the
    axis, as in the CDISC pilot's figure 14-1."""
    part = _part(ard, analysis_id)
    tcol = "timepoint" if "timepoint" in part.columns else "visit"
    curve = part[(part["variable_level"] == "curve") & (part["stat_name"] == "estimate")]
    risk = part[(part["variable_level"] == "at_risk") & (part["stat_name"] == "n")]
    if curve.empty:
        raise DataValidationError(f"figure: analysis {analysis_id!r} has no Kaplan-Meier curve rows.")
    arms = list(dict.fromkeys(part.loc[part["group_level"] != "", "group_level"]))
    colours = {a: ARM_COLOURS[i % len(ARM_COLOURS)] for i, a in enumerate(arms)}
    times = sorted({float(t) for t in risk[tcol]})
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.8, 4.6), layout="constrained")
        ax, tab = fig.subplots(2, 1, height_ratios=(4, 1.1 + 0.12 * len(arms)), sharex=True)
        for arm in arms:
            c = curve[curve["group_level"] == arm]
            t = np.concatenate([[0.0], c[tcol].astype(float).to_numpy()])
            s = np.concatenate([[1.0], c["stat_value"].to_numpy(float)])
            xmax = max([*times, float(t[-1])])
            ax.step(np.append(t, xmax), np.append(s, s[-1]), where="post", color=colours[arm], label=arm)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(ylabel)
        _legend(ax, frameon=False, loc="lower left")
        ax.grid(alpha=0.3)
        tab.set_ylim(-0.5, len(arms) - 0.5)
        tab.set_yticks(range(len(arms)), arms[::-1])
        for k, arm in enumerate(arms[::-1]):
            r = risk[risk["group_level"] == arm]
            for t_txt, n in zip(r[tcol], r["stat_value"], strict=True):
                tab.text(float(t_txt), k, fmt_num(n, 0), ha="center", va="center", fontsize=8,
                         color=colours[arm])
        tab.set_title("Number at risk", fontsize=8, loc="left")
        tab.tick_params(axis="y", length=0)
        for side in ("left", "bottom"):
            tab.spines[side].set_visible(False)
        tab.set_xlabel(xlabel)
        if times:
            tab.set_xticks(times)
    return fig


def plot_tipping_point(
    ard: pd.DataFrame,
    analysis_id: str = "iga-ts-w8-tipping",
    *,
    alpha: float = 0.05,
    ylabel: str = "Difference vs control, % (95% CI)",
) -> Figure:
    """Delta-adjusted MI over the delta grid (method ``tipping_point``): the pooled difference
    vs control with its CI band (top) and the p-value on a log scale with ``alpha`` and each arm's
    tipping delta marked (bottom). Reads the ARD rows ``variable_level`` "delta=<d>" and
    "tipping point"; nothing is recomputed."""
    part = _part(ard, analysis_id)
    rows = part[part["variable_level"].str.startswith("delta=") & (part["comparator"] != "")]
    if rows.empty:
        raise DataValidationError(f"figure: analysis {analysis_id!r} holds no delta-adjusted results.")
    rows = rows.assign(delta=rows["variable_level"].str.removeprefix("delta=").astype(float))
    tab = _pivot(rows, ["group_level", "delta"])
    control = _control(part)
    arms = list(dict.fromkeys(rows["group_level"]))
    colours = _colour([control, *arms], control)
    tips = part[(part["variable_level"] == "tipping point") & (part["stat_name"] == "estimate")]
    tip = dict(zip(tips["group_level"], tips["stat_value"].astype(float), strict=True))
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(6.4, 5.0), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        for arm in arms:
            t = tab.loc[arm].sort_index()
            d = t.index.to_numpy(float)
            top.fill_between(d, 100 * t["ci_lower"], 100 * t["ci_upper"], color=colours[arm], alpha=0.18,
                             lw=0)
            top.plot(d, 100 * t["estimate"], color=colours[arm], label=f"{arm} vs {control}")
            bottom.plot(d, t["p_value"].clip(lower=1e-12), color=colours[arm], marker="o", ms=2.5)
            x = tip.get(arm, np.nan)
            if np.isfinite(x):
                for ax in (top, bottom):
                    ax.axvline(x, color=colours[arm], ls="--", lw=1)
                bottom.annotate(f"tipping {fmt_num(x, 2)}", (x, alpha), xytext=(4, 6),
                                textcoords="offset points", fontsize=8, color=colours[arm])
        top.axhline(0, color="black", lw=0.8)
        top.axvline(0, color="grey", lw=0.6, ls=":")
        top.set_ylabel(ylabel)
        _legend(top, frameon=False, loc="upper left", fontsize=8)
        top.grid(alpha=0.3)
        bottom.set_yscale("log")
        bottom.axhline(alpha, color="black", lw=0.8, ls="--")
        bottom.set_ylabel("p-value (Rubin's rules)")
        bottom.set_xlabel("delta: shift of the imputed log-odds of response in the active arms (0 = MAR)")
        bottom.grid(alpha=0.3)
    return fig
