"""Small pieces every page uses: the job watcher, the progress bar, messages, tables and figures.

Everything is built from htmltools tags, which escape text and attribute values; no page passes a
user's string to ``ui.HTML``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from htmltools import HTML, Tag, TagChild, tags
from shiny import reactive, ui
from shiny.session import get_current_session

from dermsim.app._jobs import Job, Snapshot
from dermsim.errors import DermsimError, InvalidInputError

POLL_S = 0.4


class JobView:
    """A job and the reactive snapshot of it the page renders (polled while the job runs)."""

    def __init__(self, scrub: Callable[[str], str] = str) -> None:
        self.job = Job(scrub)
        self.scrub = scrub
        self.error: reactive.Value[str] = reactive.value("")
        self.snap: reactive.Value[Snapshot] = reactive.value(self.job.snapshot())
        self._kick = reactive.value(0)
        session = get_current_session()
        if session is not None:
            session.on_ended(self.job.cancel)  # a closed tab stops its runs at the next check

        @reactive.effect
        def _poll() -> None:
            self._kick()
            s = self.job.snapshot()
            if s.running:
                reactive.invalidate_later(POLL_S)
            with reactive.isolate():
                if s != self.snap():
                    self.snap.set(s)

    def launch(self, prepare: Callable[[], tuple[Callable[[Job], Any], str]]) -> None:
        """Check the page's inputs (``prepare`` returns the work and its label, or raises a
        DermsimError, shown as the page's one message) and start the work."""
        self.error.set("")
        try:
            fn, label = prepare()
        except DermsimError as exc:
            self.error.set(self.scrub(str(exc)))
            return
        self.start(fn, label)

    def wire(self, input: Any, prepare: Callable[[], tuple[Callable[[Job], Any], str]]) -> None:
        """The page's Run button launches ``prepare``'s work; its Cancel button cancels it."""

        @reactive.effect
        @reactive.event(input.run)
        def _run() -> None:
            self.launch(prepare)

        @reactive.effect
        @reactive.event(input.cancel)
        def _cancel() -> None:
            self.cancel()

    def status(self, what: str, *extra: TagChild) -> TagChild:
        """The page's message (if any), the progress bar or final state, and ``extra``."""
        return tags.div(
            message(self.error()) if self.error() else None, progress_view(self.snap(), what), *extra
        )

    def start(self, fn: Any, label: str) -> None:
        self.job.run(fn, label)
        with reactive.isolate():
            self._kick.set(self._kick() + 1)

    def cancel(self) -> None:
        self.job.cancel()


def whole(value: object, what: str, low: int, high: int, *, empty_ok: bool = False) -> int | None:
    """A whole number from a numeric input, or one clear error naming the field and the range."""
    if value is None or value == "":
        if empty_ok:
            return None
        raise InvalidInputError(f"{what} must be a whole number from {low} to {high}; got nothing.")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a whole number; got {value!r}.") from None
    if v != int(v) or not low <= v <= high:
        raise InvalidInputError(f"{what} must be a whole number from {low} to {high}; got {value!r}.")
    return int(v)


def message(text: str, kind: str = "danger") -> Tag:
    """One message line; errors are announced to screen readers (role=alert)."""
    return tags.div(
        text, class_=f"alert alert-{kind} py-2 my-2", role="alert" if kind == "danger" else "status"
    )


def progress_view(s: Snapshot, what: str) -> TagChild:
    """The progress bar and stage list of a job, or its final message."""
    if s.status == "idle":
        return tags.p(f"No {what} yet.", class_="text-muted")
    parts: list[TagChild] = []
    if s.running:
        frac = s.fraction
        pct = 0 if frac is None else round(100 * frac)
        label = s.label + (f" ({s.done} of {s.total})" if s.total and s.total > 1 else "")
        parts.append(
            tags.div(
                tags.div(
                    class_="progress-bar progress-bar-striped progress-bar-animated"
                    + (" w-100" if frac is None else ""),
                    style=None if frac is None else f"width: {pct}%",
                ),
                class_="progress my-2",
                role="progressbar",
                aria_label=f"{what} progress",
                aria_valuenow=str(pct),
                aria_valuemin="0",
                aria_valuemax="100",
            )
        )
        parts.append(tags.p(label, class_="small mb-1", id=None))
    elif s.status == "done":
        parts.append(message(f"{what.capitalize()} finished.", "success"))
    elif s.status == "cancelled":
        parts.append(message(s.message, "warning"))
    else:
        parts.append(message(s.message))
    if s.stages:
        parts.append(tags.ul(*[tags.li(x) for x in s.stages], class_="small text-muted mb-0"))
    return tags.div(*parts, class_="job-status", data_status=s.status, data_run=str(s.run))


def html_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], caption: str = "") -> Tag:
    """A plain accessible table (caption, header cells with scope) from already formatted cells."""
    return tags.table(
        tags.caption(caption) if caption else None,
        tags.thead(tags.tr(*[tags.th(c, scope="col") for c in columns])),
        tags.tbody(*[tags.tr(*[tags.td("" if v is None else str(v)) for v in r]) for r in rows]),
        class_="table table-sm table-striped w-auto",
    )


def frame_table(frame: pd.DataFrame, caption: str = "", max_rows: int = 400) -> Tag:
    shown = frame.head(max_rows)
    return html_table(
        [str(c) for c in shown.columns],
        shown.astype(object).where(shown.notna(), "").values.tolist(),
        caption + (f" (first {max_rows} of {len(frame)} rows)" if len(frame) > max_rows else ""),
    )


def png_figure(path: Path, alt: str) -> Tag:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return tags.figure(
        tags.img(src=f"data:image/png;base64,{data}", alt=alt, class_="img-fluid"),
        tags.figcaption(alt, class_="small text-muted"),
        class_="my-3",
    )


def job_sidebar(*inputs: TagChild, run_label: str) -> Any:
    """A page's sidebar: its inputs, Run and Cancel, and the job status below them."""
    return ui.sidebar(
        *inputs,
        run_cancel("run", "cancel", run_label),
        ui.output_ui("status"),
        width=320,
        resizable=False,  # bslib's resize handle is a focusable separator without aria-valuenow (axe)
    )


def run_cancel(ns_run: str, ns_cancel: str, run_label: str = "Run") -> Tag:
    return tags.div(
        ui.input_action_button(ns_run, run_label, class_="btn-primary"),
        ui.input_action_button(ns_cancel, "Cancel", class_="btn-outline-secondary ms-2"),
        class_="my-2",
    )


PLOTLY_JS_DIR = (
    Path(__import__("plotly").__file__).parent / "package_data"
)  # plotly.min.js, served by the app


def plotly_view(fig: Any, label: str, **attrs: Any) -> Tag:
    """A plotly figure as HTML (the figure holds numbers and labels made by the app, not user text);
    plotly.js is loaded once in the page head from the app's own static files."""
    html = fig.to_html(
        full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True}
    )
    return tags.div(HTML(html), role="figure", aria_label=label, **attrs)
