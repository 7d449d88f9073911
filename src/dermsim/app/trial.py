"""Trial page: a virtual trial (built-in scenario or an uploaded design TOML) run with
:func:`dermsim.workflows.run_virtual_trial` in a worker thread; week-8 results beside the published
values, the report's figures, ARD tables and downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

from htmltools import TagChild, tags
from shiny import module, reactive, render, ui

from dermsim.app._safety import SessionFiles
from dermsim.app._ui import (
    JobView,
    frame_table,
    html_table,
    job_sidebar,
    png_figure,
    whole,
)
from dermsim.errors import InvalidInputError
from dermsim.workflows import SUMMARY_COLUMNS, TrialRun, run_virtual_trial
from dermsim.workflows.app_support import list_scenarios

UPLOAD = "upload"
MAX_N = 2000
MAX_REPLICATES = 50


@module.ui
def trial_ui() -> TagChild:
    choices = {s: s for s in list_scenarios()} | {UPLOAD: "uploaded design (TOML)"}
    return ui.layout_sidebar(
        job_sidebar(
            ui.input_select("scenario", "Scenario", choices, selected="true-ad3"),
            ui.panel_conditional(
                f"input.scenario === '{UPLOAD}'",
                ui.input_file("design_file", "Design TOML", accept=[".toml"]),
            ),
            ui.input_numeric("n", "Subjects (N, empty: the design's)", 60, min=6, max=MAX_N),
            ui.input_numeric("seed", "Seed", 1, min=0),
            ui.input_numeric("replicates", "Replicate trials", 1, min=1, max=MAX_REPLICATES),
            run_label="Run trial",
        ),
        ui.output_ui("results"),
    )


@module.server
def trial_server(input: object, output: object, session: object, files: SessionFiles) -> None:
    view = JobView(files.scrub)

    def prepare() -> tuple[object, str]:
        scenario = _scenario_source(input, files)
        n = whole(input.n(), "N", 6, MAX_N, empty_ok=True)
        seed = whole(input.seed(), "seed", 0, 2**63 - 1)
        reps = whole(input.replicates(), "replicate trials", 1, MAX_REPLICATES)
        out = files.new_path("trial", "")
        return (
            lambda job: run_virtual_trial(
                scenario, out, seed=seed, n_replicates=reps, n=n, progress=job, cancel=job.token
            )
        ), "virtual trial"

    view.wire(input, prepare)

    @reactive.calc
    def run() -> TrialRun | None:
        s = view.snap()
        return view.job.result() if s.status == "done" else None

    @render.ui
    def status() -> TagChild:
        return view.status("trial run")

    @render.ui
    def results() -> TagChild:
        r = run()
        if r is None:
            return tags.div(
                tags.h2("Virtual trial"),
                tags.p(
                    "Choose a scenario, N and seed, then Run trial. The run simulates the "
                    "trial, writes SDTM and ADaM, analyses it with the built-in plan and "
                    "renders the report."
                ),
            )
        figures = [
            png_figure(p, k.split(":", 1)[1].replace("-", " "))
            for k, p in sorted(r.report_paths.items())
            if k.startswith("png:")
        ]
        ids = list(dict.fromkeys(r.ard["analysis_id"]))
        return tags.div(
            tags.h2(f"{r.design.id}: {r.design.title}"),
            tags.p(
                f"{r.study.n_subjects} subjects, seed {r.manifest['seed']}, "
                f"{r.manifest['n_replicates']} replicate trial(s); model parameters: "
                f"{r.model.provenance().get('parameters', '')}",
                class_="text-muted",
            ),
            html_table(SUMMARY_COLUMNS, r.summary_rows(), "Week 8: simulated beside the published values"),
            tags.div(
                ui.download_button("dl_report", "report.html"),
                ui.download_button("dl_adam", "ADaM (zip)", class_="ms-2"),
                ui.download_button("dl_rtf", "RTF tables (zip)", class_="ms-2"),
                ui.download_button("dl_ard", "ARD (csv)", class_="ms-2"),
                class_="my-3",
            ),
            tags.h3("Figures"),
            *figures,
            tags.h3("ARD"),
            ui.input_select("ard_id", "Analysis", {i: i for i in ids}, selected=ids[0] if ids else None),
            ui.output_ui("ard_table"),
        )

    @render.ui
    def ard_table() -> TagChild:
        r = run()
        if r is None or not input.ard_id():
            return None
        part = r.ard[r.ard["analysis_id"] == input.ard_id()]
        cols = [
            c
            for c in (
                "group_level",
                "comparator",
                "visit",
                "variable",
                "variable_level",
                "stat_name",
                "stat_value",
            )
            if c in part.columns
        ]
        return frame_table(part[cols], f"ARD rows of {input.ard_id()}")

    def _zip(folder: Path, name: str) -> Path:
        r = run()
        if r is None:
            raise InvalidInputError("no finished run to download; run a trial first.")
        dest = files.new_dir("zip") / name
        return Path(shutil.make_archive(str(dest), "zip", r.out / folder))

    @render.download(filename="report.html")
    def dl_report() -> str:
        r = run()
        return str(r.report) if r else ""

    @render.download(filename="adam.zip")
    def dl_adam() -> str:
        return str(_zip(Path("adam"), "adam"))

    @render.download(filename="tlf-rtf.zip")
    def dl_rtf() -> str:
        return str(_zip(Path("tlf"), "tlf"))

    @render.download(filename="ard.csv")
    def dl_ard() -> str:
        r = run()
        return str(r.out / "ard.csv") if r else ""


def _scenario_source(input: object, files: SessionFiles) -> str | Path:
    choice = input.scenario()
    if choice != UPLOAD:
        return str(choice)
    up = input.design_file()
    if not up:
        raise InvalidInputError("upload a design TOML first (or choose a built-in scenario).")
    folder = files.take_uploads(up[:1], (".toml",), "design")
    return next(folder.glob("*.toml"))
