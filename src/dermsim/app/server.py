"""The page layout and the per-session server: each session gets its own private folder, removed
when the session ends, and its running jobs are cancelled then."""

from __future__ import annotations

import threading

from htmltools import TagChild, tags
from shiny import App, Inputs, Outputs, Session, ui

from dermsim import __version__
from dermsim.app._safety import MAX_UPLOAD_BYTES, SessionFiles, UploadLimit
from dermsim.app._ui import PLOTLY_JS_DIR
from dermsim.app.analysis import analysis_server, analysis_ui
from dermsim.app.clinic import clinic_server, clinic_ui
from dermsim.app.design import design_server, design_ui
from dermsim.app.explorer import explorer_server, explorer_ui
from dermsim.app.trial import trial_server, trial_ui
from dermsim.workflows.app_support import warm_up_engine

# (module id, tab title, the page's UI function)
PAGES = (
    ("trial", "Trial", trial_ui),
    ("analysis", "Analysis", analysis_ui),
    ("design", "Design", design_ui),
    ("explorer", "Model explorer", explorer_ui),
    ("clinic", "Clinic", clinic_ui),
)

_CSS = """
.body-map .region { cursor: pointer; fill: #e9eef3; stroke: #44546a; stroke-width: 1.5; }
.body-map [aria-pressed='true'] .region { fill: #c8553d; }
.body-map [data-region]:focus { outline: none; }
.body-map [data-region]:focus .region { stroke: #0b5cad; stroke-width: 3; }
.body-map text { font-size: 12px; fill: #1b1b1b; }
@media print { .navbar, .bslib-sidebar-layout > .sidebar, .no-print { display: none !important; } }
"""


def app_ui(request: object) -> TagChild:
    return ui.page_navbar(
        *[ui.nav_panel(title, page_ui(key), value=key) for key, title, page_ui in PAGES],
        title="dermsim",
        id="page",
        lang="en",
        header=tags.head(
            tags.style(_CSS),
            tags.script(src="dermsim-static/plotly.min.js"),
            tags.meta(name="description", content="dermsim web app"),
        ),
        footer=tags.footer(
            f"dermsim {__version__}: simulated data for research and teaching; not medical advice.",
            class_="text-muted small p-2",
        ),
        window_title="dermsim",
    )


def server(input: Inputs, output: Outputs, session: Session) -> None:
    files = SessionFiles()
    session.on_ended(files.close)
    trial_server("trial", files=files)
    analysis_server("analysis", files=files)
    design_server("design", files=files)
    explorer_server("explorer", files=files)
    clinic_server("clinic", files=files)


def create_app(max_upload_bytes: int = MAX_UPLOAD_BYTES, *, warm_up: bool = True) -> App:
    """The Shiny app (an ASGI application) with the upload size limit in front of it.

    The app simulates on the engine a command would (the compiled kernel where numba is installed;
    DERMSIM_ENGINE chooses, as everywhere), so its numbers are the command line's to the last digit,
    and its default design study (3 sizes x 100 trials) takes about 2 s, not the NumPy path's 8 s.
    ``warm_up``: in a background thread, compile the kernels when numba's disk cache lacks them (the
    first compiled run after an install: about 20 s on 2 cores) and load them, while the first page
    loads (:func:`dermsim.workflows.app_support.warm_up_engine`); a first run then waits only for
    what is left.
    (An earlier "hang" of the design test on the kernel was the test waiting for exactly two curve
    points while Shiny rendered 1 -> 3 after the compile; the test now waits for at least two.)"""
    if warm_up:
        threading.Thread(target=warm_up_engine, name="dermsim-warm-up", daemon=True).start()
    app = App(app_ui, server, static_assets={"/dermsim-static": PLOTLY_JS_DIR})
    app.starlette_app = UploadLimit(app.starlette_app, max_upload_bytes)  # App.__call__ delegates to it
    return app
