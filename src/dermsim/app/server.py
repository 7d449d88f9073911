"""The page layout and the per-session server: each session gets its own private folder, removed
when the session ends, and its running jobs are cancelled then."""

from __future__ import annotations

import os

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


def create_app(max_upload_bytes: int = MAX_UPLOAD_BYTES) -> App:
    """The Shiny app (an ASGI application) with the upload size limit in front of it.

    The app simulates on the NumPy engine unless DERMSIM_ENGINE says otherwise: its runs are small
    and interactive, and the compiled kernel's first call in a fresh process compiles for about
    20 s (then cached on disk). Same numbers either way (tests/unit/model/test_kernel.py); with
    DERMSIM_ENGINE=numba the browser tests pass too.
    (An earlier "hang" of the design test on the kernel was the test waiting for exactly two curve
    points while Shiny rendered 1 -> 3 after the compile; the test now waits for at least two.)"""
    # engine.compiled.ENV_BACKEND by name: the app imports workflows only
    os.environ.setdefault("DERMSIM_ENGINE", "numpy")
    app = App(app_ui, server, static_assets={"/dermsim-static": PLOTLY_JS_DIR})
    app.starlette_app = UploadLimit(app.starlette_app, max_upload_bytes)  # App.__call__ delegates to it
    return app
