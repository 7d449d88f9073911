"""The workflows' progress protocol rendered with rich (one bar per stage) on stderr."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichBar
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- rep/s" if speed is None else f"{speed:,.1f} rep/s", style="cyan")


class RichProgress:
    """A :class:`dermsim.workflows.Progress` drawn with rich; use as a context manager (the bars
    are stopped, leaving a clean line, before an error reaches the command's handler)."""

    def __init__(self, console: Console | None = None, *, style: str = "stages",
                 disable: bool = False) -> None:
        console = console or Console(stderr=True)
        if style == "rate":  # design runs: replicates done, rate and time left
            columns: tuple[Any, ...] = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                        _RateColumn(), TextColumn("left"), TimeRemainingColumn())
        else:
            columns = (SpinnerColumn(), TextColumn("{task.description:<34}"), BarColumn(),
                       TextColumn("{task.fields[info]}"), TimeElapsedColumn())
        self._bar = RichBar(*columns, console=console, transient=False, disable=disable)
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            # an error clears the bars: the error line is then the only thing the command leaves
            self._bar.live.transient = True
        self._bar.stop()

    def start(self, total: int | None, label: str) -> None:
        self._task = self._bar.add_task(label, total=total, info="")

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n)

    def done(self, info: str = "") -> None:
        if self._task is not None:
            total = self._bar.tasks[self._task].total
            if total is not None:
                self._bar.update(self._task, completed=total)
            self._bar.update(self._task, info=info)
            self._bar.stop_task(self._task)
