"""Analysis page: upload ADaM datasets (XPT, Dataset-JSON, Parquet, CSV; several files or a zip),
choose the built-in plan or upload one, add a population condition, run
:func:`dermsim.workflows.analyze_adam` on the session's private copy; tables, the ARD, downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

from htmltools import TagChild, tags
from shiny import module, reactive, render, ui

from dermsim.app._safety import SessionFiles
from dermsim.app._ui import JobView, frame_table, job_sidebar, whole
from dermsim.errors import InvalidInputError
from dermsim.workflows import AnalysisRun, analyze_adam, load_analysis_plan
from dermsim.workflows.app_support import restrict_population

DATA_ENDINGS = (".xpt", ".json", ".ndjson", ".parquet", ".csv", ".csv.gz")
BUILTIN = "builtin"
UPLOADED = "upload"


@module.ui
def analysis_ui() -> TagChild:
    return ui.layout_sidebar(
        job_sidebar(
            ui.input_file(
                "data", "ADaM datasets (files or a zip)", multiple=True, accept=[*DATA_ENDINGS, ".gz", ".zip"]
            ),
            ui.input_radio_buttons(
                "plan_choice",
                "Analysis plan",
                {BUILTIN: "built-in AD plan", UPLOADED: "upload a plan (TOML)"},
            ),
            ui.panel_conditional(
                f"input.plan_choice === '{UPLOADED}'",
                ui.input_file("plan_file", "Plan TOML", accept=[".toml"]),
            ),
            ui.input_text("population", "Population condition (optional)", placeholder='e.g. SEX == "F"'),
            ui.input_numeric("seed", "Seed (multiple imputation)", 1, min=0),
            run_label="Analyse",
        ),
        ui.output_ui("results"),
    )


@module.server
def analysis_server(input: object, output: object, session: object, files: SessionFiles) -> None:
    view = JobView(files.scrub)

    def prepare() -> tuple[object, str]:
        up = input.data()
        if not up:
            raise InvalidInputError("choose the ADaM dataset files (or one zip) to upload first.")
        adam = files.take_uploads(up, DATA_ENDINGS, "adam", unzip=True)
        plan = _plan(input, files)
        seed = whole(input.seed(), "seed", 0, 2**63 - 1)
        out = files.new_path("analysis", "")
        return (lambda job: _analyse(job, adam, out, plan, seed)), "analysis"

    view.wire(input, prepare)

    @reactive.calc
    def run() -> AnalysisRun | None:
        return view.job.result() if view.snap().status == "done" else None

    @render.ui
    def status() -> TagChild:
        return view.status("analysis")

    @render.ui
    def results() -> TagChild:
        r = run()
        if r is None:
            return tags.div(
                tags.h2("Analysis of ADaM data"),
                tags.p(
                    "Upload ADaM datasets (XPT, Dataset-JSON, Parquet or CSV; several files or "
                    "one zip), choose the plan and press Analyse. Files are read from a private "
                    "folder of this session and deleted when you close the page."
                ),
            )
        ids = list(dict.fromkeys(r.ard["analysis_id"]))
        return tags.div(
            tags.h2(f"{r.plan.name}: {len(ids)} analyses, {len(r.ard)} ARD rows"),
            tags.p(
                "Datasets: " + ", ".join(f"{k.upper()} ({len(v)} records)" for k, v in r.datasets.items()),
                class_="text-muted",
            ),
            tags.div(
                ui.download_button("dl_ard", "ARD (csv)"),
                ui.download_button("dl_all", "ARD, tables and metadata (zip)", class_="ms-2"),
                class_="my-3",
            ),
            ui.input_select("table_id", "Table", {i: i for i in ids}, selected=ids[0] if ids else None),
            ui.output_ui("table"),
        )

    @render.ui
    def table() -> TagChild:
        r = run()
        aid = input.table_id()
        if r is None or not aid:
            return None
        path = r.paths.get(f"table:{aid}")
        part = r.ard[r.ard["analysis_id"] == aid]
        cols = [
            c
            for c in (
                "group_level",
                "comparator",
                "parameter",
                "visit",
                "variable",
                "variable_level",
                "stat_name",
                "stat_value",
            )
            if c in part.columns
        ]
        return tags.div(
            tags.h3(next((a.title for a in r.plan.analyses if a.id == aid and a.title), aid)),
            tags.pre(
                Path(path).read_text(encoding="utf-8"),
                class_="small border p-2",
                style="overflow: auto; max-height: 32rem;",
                tabindex="0",
                aria_label=f"table {aid}",
            )
            if path
            else None,
            frame_table(part[cols], f"ARD rows of {aid}"),
        )

    @render.download(filename="ard.csv")
    def dl_ard() -> str:
        r = run()
        return str(r.paths["csv"]) if r else ""

    @render.download(filename="analysis.zip")
    def dl_all() -> str:
        r = run()
        if r is None:
            return ""
        dest = files.new_dir("zip") / "analysis"
        return shutil.make_archive(str(dest), "zip", r.out)


def _plan(input: object, files: SessionFiles) -> object:
    if input.plan_choice() == UPLOADED:
        up = input.plan_file()
        if not up:
            raise InvalidInputError("upload a plan TOML first (or choose the built-in plan).")
        plan = load_analysis_plan(next(files.take_uploads(up[:1], (".toml",), "plan").glob("*.toml")))
    else:
        plan = load_analysis_plan(None)
    return restrict_population(plan, input.population() or "")


def _analyse(job: object, adam: Path, out: Path, plan: object, seed: int) -> AnalysisRun:
    job.start(None, "reading the datasets and running the plan")
    run = analyze_adam(adam, out, plan=plan, seed=seed)
    job.done(f"{len(run.ard)} ARD rows")
    return run
