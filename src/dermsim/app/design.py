"""Design page: the power curve of a scenario over a range of total N with Monte-Carlo bands, for a
design varied as the design layer allows (:func:`dermsim.workflows.power_designs`): allocation
ratio, strata (any subset of the scenario's stratification factors, or none), primary visit day,
significance level, the null design (type I error), prior or posterior parameters. One
:func:`dermsim.workflows.run_design_study` per N, in order, in a worker thread: each finished N is
published to the page at once, so the curve fills in while the rest runs; Cancel stops at the next
committed chunk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from htmltools import TagChild, tags
from shiny import module, reactive, render, ui

from dermsim.app._jobs import Job
from dermsim.app._safety import SessionFiles
from dermsim.app._ui import JobView, frame_table, job_sidebar, plotly_view, whole
from dermsim.errors import InvalidInputError
from dermsim.workflows import DesignOptions, power_designs, run_design_study
from dermsim.workflows.app_support import list_scenarios, strata_choices

MAX_SIZES = 12
MAX_REPLICATES = 2000
Z95 = 1.959963984540054
DEFAULT_SCENARIO = "true-ad3"


@module.ui
def design_ui() -> TagChild:
    return ui.layout_sidebar(
        job_sidebar(
            ui.input_select(
                "scenario", "Scenario", {s: s for s in list_scenarios()}, selected=DEFAULT_SCENARIO
            ),
            ui.input_text("sizes", "Total N (START:STOP:STEP or a list)", "100:300:100"),
            ui.input_numeric("replicates", "Replicates per N", 100, min=10, max=MAX_REPLICATES),
            ui.input_text(
                "ratio", "Allocation ratio (empty: the scenario's)", placeholder="rux150=1,vehicle=1"
            ),
            ui.input_select(
                "strata", "Strata (randomization and analysis)", strata_choices(DEFAULT_SCENARIO)
            ),
            ui.input_numeric(
                "primary_day", "Primary visit, study day (empty: end of the vehicle period)", None, min=2
            ),
            ui.input_numeric("alpha", "Significance level (two-sided)", 0.05, min=0.001, max=0.5, step=0.01),
            ui.input_checkbox("null", "Null design: every arm at vehicle strength (type I error)"),
            ui.input_select(
                "parameters",
                "Model parameters",
                {
                    "posterior": "posterior (shipped)",
                    "prior": "prior (package values)",
                },
            ),
            ui.input_numeric("seed", "Seed", 1, min=0),
            run_label="Run design",
        ),
        tags.div(
            tags.h2("Power over sample size"),
            tags.p(
                "Probability of success (every hypothesis of the fixed sequence rejected) and the power of "
                "each endpoint, with 95% Monte-Carlo bands; points appear as each N finishes.",
                class_="text-muted",
            ),
            ui.output_ui("curve"),
            ui.output_ui("table"),
        ),
    )


@module.server
def design_server(input: object, output: object, session: object, files: SessionFiles) -> None:
    view = JobView(files.scrub)

    @reactive.effect
    @reactive.event(input.scenario)
    def _strata() -> None:  # the strata a design can take are the scenario's factors
        ui.update_select("strata", choices=strata_choices(input.scenario()), selected="")

    def prepare() -> tuple[object, str]:
        reps = whole(input.replicates(), "replicates", 10, MAX_REPLICATES)
        seed = whole(input.seed(), "seed", 0, 2**63 - 1)
        alpha = input.alpha()
        if alpha is None or not 0 < float(alpha) < 1:
            raise InvalidInputError(f"significance level must be above 0 and below 1; got {alpha!r}.")
        designs = power_designs(
            input.sizes(),
            ratio=input.ratio().strip() or None,
            strata=input.strata() or None,
            primary_day=whole(input.primary_day(), "primary visit day", 2, 3650, empty_ok=True),
            alpha=float(alpha),
            null=bool(input.null()),
        )
        if len(designs) > MAX_SIZES:
            raise InvalidInputError(f"at most {MAX_SIZES} sample sizes per run; got {len(designs)}.")
        folder = files.new_dir("design")
        # in this process (workers=None): a local Dask cluster per N would cost seconds to start
        opts = DesignOptions(replicates=reps, seed=seed, workers=None, parameters=input.parameters())
        scenario = input.scenario()
        return (lambda job: _curve(job, scenario, designs, folder, opts)), "design study"

    view.wire(input, prepare)

    @reactive.calc
    def points() -> pd.DataFrame:
        view.snap()
        parts = view.job.partial()
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    @render.ui
    def status() -> TagChild:
        done = points()
        extra = (
            tags.p(f"{done['n_total'].nunique()} sample size(s) finished.", class_="small")
            if len(done)
            else None
        )
        dl = ui.download_button("dl_summary", "summary (csv)", class_="mt-2") if len(done) else None
        return view.status("design run", extra, dl)

    @render.ui
    def curve() -> TagChild:
        p = points()
        if p.empty:
            return tags.p("No finished sample size yet.", class_="text-muted", id="curve-empty")
        return plotly_view(
            _figure(p),
            "power curve over total N with 95% Monte-Carlo bands",
            class_="power-curve",
            data_points=str(p["n_total"].nunique()),
        )

    @render.ui
    def table() -> TagChild:
        p = points()
        if p.empty:
            return None
        shown = p.assign(power=p["power"].round(3), mcse=p["mcse"].round(3))
        return frame_table(
            shown[["n_total", "curve", "power", "mcse", "replicates"]],
            "Power by total N (Monte-Carlo standard error); designs " + ", ".join(p["design_id"].unique()),
        )

    @render.download(filename="design-summary.csv")
    def dl_summary() -> str:
        p = points()
        path = files.new_dir("download") / "design-summary.csv"
        p.to_csv(path, index=False)
        return str(path)


def _curve(job: Job, scenario: str, designs: list, folder: Path, opts: DesignOptions) -> int:
    """One design study per N (in order), each published as rows (n_total, curve, power, mcse)."""
    for k, d in enumerate(designs):
        study = run_design_study(
            scenario, [d], folder / f"n{k}", opts, progress=_Named(job, f"N={d.n_total}"), cancel=job.token
        )
        job.publish(_rows(study))
    return len(designs)


class _Named:
    """The job's progress with the current N in front of each stage label."""

    def __init__(self, job: Job, prefix: str) -> None:
        self.job, self.prefix = job, prefix

    def start(self, total: int | None, label: str) -> None:
        self.job.start(total, f"{self.prefix}: {label}")

    def advance(self, n: int = 1) -> None:
        self.job.advance(n)

    def done(self, info: str = "") -> None:
        self.job.done(info)


def _rows(study: object) -> pd.DataFrame:
    des = study.designs.iloc[0]
    rows = [
        {
            "design_id": str(des["design_id"]),
            "n_total": int(des["n_total"]),
            "curve": "probability of success",
            "power": float(des["probability_of_success"]),
            "mcse": float(des["probability_of_success_mcse"]),
            "replicates": int(des["n_replicates"]),
        }
    ]
    s = study.summary
    for _, r in s[~s["null"]].iterrows():
        rows.append(
            {
                "design_id": str(des["design_id"]),
                "n_total": int(des["n_total"]),
                "curve": f"{r['endpoint']} {r['treatment']} vs {r['control']}",
                "power": float(r["rejection_rate"]),
                "mcse": float(r["rejection_rate_mcse"]),
                "replicates": int(r["n_replicates"]),
                "mean_estimate": float(r["mean_estimate"]),
            }
        )
    return pd.DataFrame(rows)


def _figure(p: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    palette = ["#1b4f72", "#c8553d", "#2e8540", "#8e44ad", "#b7950b", "#5d6d7e", "#117a65"]
    for i, (name, part) in enumerate(p.sort_values("n_total").groupby("curve", sort=False)):
        colour = palette[i % len(palette)]
        half = Z95 * part["mcse"]
        if name == "probability of success":  # line and Monte-Carlo band
            lo, hi = (part["power"] - half).clip(0, 1), (part["power"] + half).clip(0, 1)
            xs = list(part["n_total"])
            fig.add_trace(
                go.Scatter(
                    x=xs + xs[::-1],
                    y=list(hi) + list(lo)[::-1],
                    fill="toself",
                    fillcolor=colour,
                    opacity=0.2,
                    line={"width": 0},
                    hoverinfo="skip",
                    name="95% Monte-Carlo band",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=part["n_total"],
                    y=part["power"],
                    mode="lines+markers",
                    name=str(name),
                    line={"color": colour, "width": 3},
                )
            )
        else:  # each endpoint's power: thinner, with 95% Monte-Carlo error bars
            fig.add_trace(
                go.Scatter(
                    x=part["n_total"],
                    y=part["power"],
                    mode="lines+markers",
                    name=str(name),
                    line={"color": colour, "width": 1.5, "dash": "dot"},
                    error_y={"type": "data", "array": list(half), "thickness": 1},
                )
            )
    fig.update_layout(
        xaxis_title="total N",
        yaxis_title="power",
        yaxis_range=[0, 1.02],
        height=420,
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    return fig
