"""Model explorer: a virtual population on a cream regimen, plasma level and EASI over time with
5-95% and 25-75% bands, the plasma level against the 281 nM threshold, the share of patients applying
cream each day; single-pathway what-ifs.

The regimen calendar: every day (once or twice daily), periods built on the page (each with its
days, strength, once or twice daily, and every day, some weekdays (maintenance), a holiday or as
needed on the patient's own IGA or severity; optionally repeated: days on / days off), or a regimen
file uploaded (``examples/regimens/*.toml``). Periods and files become the ``schedule`` mapping of
:func:`dermsim.workflows.app_support.explore_course` (the regimen files' form), which the model's
regimen spec validates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from htmltools import TagChild, tags
from plotly.subplots import make_subplots
from shiny import module, render, ui

from dermsim.app._safety import SessionFiles
from dermsim.app._ui import JobView, job_sidebar, plotly_view, whole
from dermsim.errors import InvalidInputError
from dermsim.workflows import builtin_populations, fmt_num
from dermsim.workflows.app_support import (
    PATHWAYS,
    RULE_METRICS,
    WEEKDAYS,
    CourseRun,
    describe_regimen,
    explore_course,
    read_regimen_file,
)

THRESHOLD_NM = 281.0  # the oral-dose thrombocytopenia threshold the label and the trials report against
MAX_N = 2000
MAX_WEEKS = 52
MAX_PERIODS = 4
STRENGTHS = {"1.5": "1.5%", "0.75": "0.75%", "0": "vehicle (0%)"}
PLANS = {
    "every": "every day",
    "periods": "periods (built on the page)",
    "file": "a regimen file (TOML)",
}
USES = {
    "daily": "every day",
    "weekdays": "on some weekdays (maintenance)",
    "holiday": "holiday (no cream)",
    "asneeded": "as needed (flares)",
}
_METRIC_LABELS = {"iga": "IGA grade (0-4)", "severity": "severity vs baseline (D/D0)"}
METRICS = {m: _METRIC_LABELS.get(m, m) for m in RULE_METRICS}


def _period_ui(k: int) -> TagChild:
    """The inputs of period ``k`` (1-based): one row of the calendar."""
    row = ui.layout_columns(
        ui.input_numeric(f"p{k}_days", f"Period {k}: days (empty: to the end)",
                         (56 if k == 1 else None), min=1, max=7 * MAX_WEEKS),
        ui.input_select(f"p{k}_use", f"Period {k}: use", USES),
        ui.input_select(f"p{k}_per_day", f"Period {k}: applications",
                        {"": "as in the sidebar", "2": "twice daily", "1": "once daily"}),
        ui.input_select(f"p{k}_strength", f"Period {k}: strength", {"": "as in the sidebar"} | STRENGTHS),
        col_widths=(3, 3, 3, 3),
        fill=False,
    )
    weekdays = ui.panel_conditional(
        f"input.p{k}_use === 'weekdays'",
        ui.input_checkbox_group(f"p{k}_weekdays", f"Period {k}: weekdays",
                                {w: w.capitalize() for w in WEEKDAYS}, selected=["sat", "sun"], inline=True),
    )
    rule = ui.panel_conditional(
        f"input.p{k}_use === 'asneeded'",
        ui.layout_columns(
            ui.input_select(f"p{k}_metric", f"Period {k}: as needed on", METRICS),
            ui.input_numeric(f"p{k}_start", f"Period {k}: start at or above", 2, min=0, step=0.5),
            ui.input_numeric(f"p{k}_stop", f"Period {k}: stop at or below", 0, min=0, step=0.5),
            col_widths=(4, 4, 4),
            fill=False,
        ),
    )
    block = tags.fieldset(row, weekdays, rule, class_="border-top pt-2 period", data_period=str(k))
    return block if k == 1 else ui.panel_conditional(f"Number(input.n_periods) >= {k}", block)


def _calendar_ui() -> TagChild:
    return ui.panel_conditional(
        "input.plan === 'periods'",
        ui.card(
            ui.card_header("Calendar: periods in order from day 0"),
            ui.layout_columns(
                ui.input_select("n_periods", "Number of periods",
                                {str(k): str(k) for k in range(1, MAX_PERIODS + 1)}, selected="2"),
                ui.input_select("start_weekday", "Day 0 is a", {w: w.capitalize() for w in WEEKDAYS}),
                ui.input_checkbox("repeat", "Repeat the periods to the last week (days on / days off)"),
                col_widths=(3, 3, 6),
                fill=False,
            ),
            *[_period_ui(k) for k in range(1, MAX_PERIODS + 1)],
            tags.p("After the last period ends no cream is applied (unless repeated).",
                   class_="small text-muted mb-0"),
            id="calendar_builder",
        ),
    )


@module.ui
def explorer_ui() -> TagChild:
    whatif = {
        "jak1/2": "JAK1/2 map (the drug)",
        "all": "every pathway fully",
        "none": "no pathway (vehicle-like)",
    }
    whatif |= {p: f"only {p}" for p in PATHWAYS}
    return ui.layout_sidebar(
        job_sidebar(
            ui.input_select(
                "population", "Population", {p: p for p in builtin_populations()}, selected="true-ad3"
            ),
            ui.input_numeric("n", "Virtual patients", 200, min=10, max=MAX_N),
            ui.input_select("strength", "Strength", STRENGTHS),
            ui.input_numeric(
                "grams", "Cream per application, g (empty: fingertip rule)", None, min=0.01, max=50
            ),
            ui.input_radio_buttons(
                "per_day", "Applications per day", {"2": "twice daily", "1": "once daily"}, inline=True
            ),
            ui.input_select("plan", "Calendar", PLANS),
            ui.panel_conditional(
                "input.plan === 'file'",
                ui.input_file("regimen_file", "Regimen TOML (e.g. examples/regimens/)", accept=[".toml"]),
                tags.p("The file's strength, times and amount replace those above where it sets them.",
                       class_="small text-muted"),
            ),
            ui.input_numeric("weeks", "Weeks (empty: the calendar's length)", 8, min=1, max=MAX_WEEKS),
            ui.input_select("blocked", "Pathways blocked (what-if)", whatif),
            ui.input_numeric("seed", "Seed", 1, min=0),
            run_label="Simulate",
        ),
        tags.div(tags.h2("Model explorer"), _calendar_ui(), ui.output_ui("plots")),
    )


@module.server
def explorer_server(input: object, output: object, session: object, files: SessionFiles) -> None:
    view = JobView(files.scrub)

    def prepare() -> tuple[object, str]:
        grams = input.grams()
        if grams is not None and not 0 < grams <= 50:
            raise InvalidInputError(f"cream per application must be above 0 and at most 50 g; got {grams!r}.")
        schedule = _schedule(input, files)
        kw = dict(
            population=input.population(),
            n=whole(input.n(), "virtual patients", 10, MAX_N),
            seed=whole(input.seed(), "seed", 0, 2**63 - 1),
            weeks=whole(input.weeks(), "weeks", 1, MAX_WEEKS, empty_ok=True),
            strength=float(input.strength()),
            applications_per_day=int(input.per_day()),
            grams_per_application=grams,
            blocked=input.blocked(),
            schedule=schedule,
            repeat=input.plan() == "periods" and bool(input.repeat()),
        )
        if kw["weeks"] is None and kw["repeat"]:
            raise InvalidInputError("weeks must be given to repeat the periods; got nothing.")
        return (lambda job: explore_course(**kw, progress=job, cancel=job.token)), "simulation"

    view.wire(input, prepare)

    @render.ui
    def status() -> TagChild:
        return view.status("simulation")

    @render.ui
    def plots() -> TagChild:
        s = view.snap()
        r: CourseRun | None = view.job.result() if s.status == "done" else None
        if r is None:
            return tags.p("Choose a population and a regimen, then Simulate.", class_="text-muted")
        frame = r.trajectories.to_frame("wide")
        bands = _bands(frame)
        above = float((frame.groupby("patient")["cp_nM"].max() > THRESHOLD_NM).mean())
        applied = float((frame.loc[frame["day"] >= 1, "applications"] > 0).mean())
        return tags.div(
            tags.p(
                "Median with 25-75% (dark) and 5-95% (light) bands of the virtual patients, day by day; "
                "below, the share of patients applying cream each day.",
                class_="small mb-1",
            ),
            tags.p(
                f"{r.trajectories.n} patients, {r.days} days; above {THRESHOLD_NM:g} nM on any day (daily): "
                f"{fmt_num(100 * above, 1)}%; cream applied on {fmt_num(100 * applied, 1)}% of "
                f"patient-days; model: {r.model.provenance().get('parameters', '')}",
                class_="text-muted",
                id="explorer-summary",
            ),
            tags.ul(*[tags.li(line) for line in describe_regimen(r.regimen, r.days)],
                    class_="small", id="explorer-course", aria_label="the calendar simulated"),
            plotly_view(
                _figure(bands),
                "plasma level and EASI over time with 5-95% and 25-75% bands, and the share of "
                "patients applying cream each day",
                class_="explorer-plot",
            ),
        )


def _schedule(input: Any, files: SessionFiles) -> dict[str, object] | None:
    """The calendar as :func:`explore_course`'s ``schedule`` (None for every day)."""
    plan = input.plan()
    if plan == "every":
        return None
    if plan == "file":
        up = input.regimen_file()
        if not up:
            raise InvalidInputError("upload a regimen TOML first (or choose another calendar).")
        folder = files.take_uploads(up[:1], (".toml",), "regimen")
        return read_regimen_file(next(folder.glob("*.toml")))
    count = int(input.n_periods())
    periods = [_period(input, k, last=k == count) for k in range(1, count + 1)]
    return {"start_weekday": input.start_weekday(), "periods": periods}


def _period(input: Any, k: int, *, last: bool) -> dict[str, object]:
    """Period ``k`` of the page's calendar in the regimen files' form."""
    days = whole(input[f"p{k}_days"](), f"period {k} days", 1, 7 * MAX_WEEKS, empty_ok=last)
    use = input[f"p{k}_use"]()
    out: dict[str, object] = {"days": days}
    if use == "holiday":
        return out | {"holiday": True}
    per_day = input[f"p{k}_per_day"]()
    if per_day:
        out["application_times_h"] = [0.0] if per_day == "1" else [0.0, 8.0]
    if input[f"p{k}_strength"]():
        out["strength_pct"] = float(input[f"p{k}_strength"]())
    if use == "weekdays":
        days_of_week = list(input[f"p{k}_weekdays"]() or ())
        if not days_of_week:
            raise InvalidInputError(f"period {k}: tick at least one weekday (or use it every day).")
        out["weekdays"] = days_of_week
    elif use == "asneeded":
        start, stop = input[f"p{k}_start"](), input[f"p{k}_stop"]()
        if start is None or stop is None:
            raise InvalidInputError(f"period {k}: as needed needs a start and a stop level; got nothing.")
        out["as_needed"] = {
            "metric": input[f"p{k}_metric"](), "start_at": float(start), "stop_at": float(stop)
        }
    return out


FLOOR_NM = 1e-3  # plasma levels below this (no drug: before the first dose, holidays, off treatment)
# are drawn at it: a log axis has no zero


def _bands(f: pd.DataFrame) -> pd.DataFrame:
    """Quantiles by day of plasma level and EASI, and the share of patients applying cream that day
    (``applications`` on day d counts the preceding day's: it is moved back one day)."""
    q = f.groupby("day")[["cp_nM", "easi"]].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    q.columns = [f"{v}_{round(100 * p)}" for v, p in q.columns]
    q = q.reset_index()
    share = (f["applications"] > 0).groupby(f["day"] - 1).mean().rename("applying")
    return q.merge(share, left_on="day", right_index=True, how="left")


def _figure(b: pd.DataFrame) -> go.Figure:
    fig = make_subplots(
        rows=2, cols=2,
        specs=[[{}, {}], [{"colspan": 2}, None]],
        row_heights=[0.72, 0.28],
        vertical_spacing=0.14,
        subplot_titles=("plasma ruxolitinib, nM (log scale)", "EASI", "patients applying cream that day, %"),
    )
    for col, var, colour in ((1, "cp_nM", "#1b4f72"), (2, "easi", "#c8553d")):
        part = b[b["day"] >= 1] if var == "cp_nM" else b  # day 0 is before the first dose
        x = list(part["day"])
        def y(q: int, var: str = var, part: pd.DataFrame = part) -> list[float]:
            v = part[f"{var}_{q}"]
            return list(v.clip(lower=FLOOR_NM) if var == "cp_nM" else v)
        for lo, hi, op in ((5, 95, 0.15), (25, 75, 0.3)):
            fig.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=y(hi) + y(lo)[::-1],
                    fill="toself",
                    fillcolor=colour,
                    opacity=op,
                    line={"width": 0},
                    name=f"{var} {lo}-{hi}%",
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y(50),
                mode="lines",
                line={"color": colour, "width": 2.5},
                name="median plasma level" if var == "cp_nM" else "median EASI",
            ),
            row=1,
            col=col,
        )
    applying = b.dropna(subset=["applying"])
    fig.add_trace(
        go.Scatter(
            x=applying["day"], y=100 * applying["applying"], mode="lines", line_shape="hv",
            fill="tozeroy", line={"color": "#2e8540", "width": 1.5}, name="applying cream",
        ),
        row=2,
        col=1,
    )
    low = max(float(np.nanmin(b.loc[b["day"] >= 1, "cp_nM_5"])), FLOOR_NM)
    top = max(float(np.nanmax(b["cp_nM_95"])), THRESHOLD_NM) * 3
    fig.add_hline(y=THRESHOLD_NM, line={"color": "#000", "dash": "dash"}, row=1, col=1)
    # on a log axis an annotation's y is in log10 units (add_hline's own label is lost on subplots)
    fig.add_annotation(
        x=0.02,
        xref="x domain",
        y=np.log10(THRESHOLD_NM),
        yref="y",
        yshift=10,
        xanchor="left",
        showarrow=False,
        text=f"{THRESHOLD_NM:g} nM threshold",
    )
    fig.update_yaxes(type="log", range=[np.log10(low) - 0.2, np.log10(top)], dtick=1, row=1, col=1)
    fig.update_yaxes(range=[0, 105], row=2, col=1)
    fig.update_xaxes(title_text="day", row=2, col=1)
    fig.update_layout(
        height=620,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
