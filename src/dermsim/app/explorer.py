"""Model explorer: a virtual population on a cream regimen, plasma level and EASI over time with
5-95% and 25-75% bands, the plasma level against the 281 nM threshold; single-pathway what-ifs.

The regimen calendar: once or twice daily every day runs on the model's current ``Regimen``. Days
on/off, maintenance and as-needed use are shown and kept as a ``schedule`` mapping
(:func:`_schedule`), passed to :func:`dermsim.workflows.app_support.explore_course`, which refuses a
schedule with one clear message until the model's regimen schedules arrive; then only that
function changes."""

from __future__ import annotations

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
from dermsim.workflows.app_support import PATHWAYS, CourseRun, explore_course

THRESHOLD_NM = 281.0  # the oral-dose thrombocytopenia threshold the label and the trials report against
MAX_N = 2000
PLANS = {
    "every": "every day",
    "onoff": "days on / days off",
    "maintenance": "twice weekly maintenance",
    "asneeded": "as needed (flares)",
}


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
            ui.input_select("strength", "Strength", {"1.5": "1.5%", "0.75": "0.75%", "0": "vehicle (0%)"}),
            ui.input_numeric(
                "grams", "Cream per application, g (empty: fingertip rule)", None, min=0.01, max=50
            ),
            ui.input_radio_buttons(
                "per_day", "Applications per day", {"2": "twice daily", "1": "once daily"}, inline=True
            ),
            ui.input_select("plan", "Calendar", PLANS),
            ui.panel_conditional(
                "input.plan === 'onoff'",
                ui.input_numeric("days_on", "Days on", 14, min=1),
                ui.input_numeric("days_off", "Days off", 7, min=1),
            ),
            ui.input_numeric("weeks", "Weeks", 8, min=1, max=52),
            ui.input_select("blocked", "Pathways blocked (what-if)", whatif),
            ui.input_numeric("seed", "Seed", 1, min=0),
            run_label="Simulate",
        ),
        tags.div(tags.h2("Model explorer"), ui.output_ui("plots")),
    )


@module.server
def explorer_server(input: object, output: object, session: object, files: SessionFiles) -> None:
    view = JobView(files.scrub)

    def prepare() -> tuple[object, str]:
        grams = input.grams()
        if grams is not None and not 0 < grams <= 50:
            raise InvalidInputError(f"cream per application must be above 0 and at most 50 g; got {grams!r}.")
        kw = dict(
            population=input.population(),
            n=whole(input.n(), "virtual patients", 10, MAX_N),
            seed=whole(input.seed(), "seed", 0, 2**63 - 1),
            weeks=whole(input.weeks(), "weeks", 1, 52),
            strength=float(input.strength()),
            applications_per_day=int(input.per_day()),
            grams_per_application=grams,
            blocked=input.blocked(),
            schedule=_schedule(input),
        )
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
        bands = _bands(r)
        above = float(
            (r.trajectories.to_frame("wide").groupby("patient")["cp_nM"].max() > THRESHOLD_NM).mean()
        )
        return tags.div(
            tags.p(
                "Median with 25-75% (dark) and 5-95% (light) bands of the virtual patients, day by day.",
                class_="small mb-1",
            ),
            tags.p(
                f"{r.trajectories.n} patients, {r.days} days, {r.regimen.strength_pct:g}% cream "
                f"{r.regimen.applications_per_day}x daily; above {THRESHOLD_NM:g} nM on any day (daily): "
                f"{fmt_num(100 * above, 1)}%; model: {r.model.provenance().get('parameters', '')}",
                class_="text-muted",
                id="explorer-summary",
            ),
            plotly_view(
                _figure(bands),
                "plasma level and EASI over time with 5-95% and 25-75% bands",
                class_="explorer-plot",
            ),
        )


def _schedule(input: object) -> dict[str, object] | None:
    """The calendar beyond every-day use (None for every day). Where the model's schedules land, this
    mapping becomes their spec."""
    plan = input.plan()
    if plan == "every":
        return None
    if plan == "onoff":
        return {"kind": "days_on_off", "on": input.days_on(), "off": input.days_off()}
    return {"kind": plan}


def _bands(r: CourseRun) -> pd.DataFrame:
    f = r.trajectories.to_frame("wide")
    q = f.groupby("day")[["cp_nM", "easi"]].quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
    q.columns = [f"{v}_{round(100 * p)}" for v, p in q.columns]
    return q.reset_index()


def _figure(b: pd.DataFrame) -> go.Figure:
    fig = make_subplots(rows=1, cols=2, subplot_titles=("plasma ruxolitinib, nM (log scale)", "EASI"))
    for col, var, colour in ((1, "cp_nM", "#1b4f72"), (2, "easi", "#c8553d")):
        part = (
            b[b["day"] >= 1] if var == "cp_nM" else b
        )  # day 0 is before the first dose: no drug on a log axis
        x = list(part["day"])
        for lo, hi, op in ((5, 95, 0.15), (25, 75, 0.3)):
            fig.add_trace(
                go.Scatter(
                    x=x + x[::-1],
                    y=list(part[f"{var}_{hi}"]) + list(part[f"{var}_{lo}"])[::-1],
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
                y=part[f"{var}_50"],
                mode="lines",
                line={"color": colour, "width": 2.5},
                name="median plasma level" if var == "cp_nM" else "median EASI",
            ),
            row=1,
            col=col,
        )
    low = max(float(np.nanmin(b.loc[b["day"] >= 1, "cp_nM_5"])), 1e-3)
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
    fig.update_xaxes(title_text="day")
    fig.update_layout(
        height=430,
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
