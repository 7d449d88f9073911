"""How a long workflow reports progress and is cancelled.

A workflow takes ``progress: Progress`` (default :data:`NO_PROGRESS`) and ``cancel: CancelToken |
None``. It calls ``progress.start(total, label)`` for each stage (``total`` None when unknown),
``progress.advance(n)`` as work completes and ``progress.done(info)`` at the end of the stage; the
command line renders these with rich, the web app with Shiny's progress. Between chunks or
replicates the workflow calls ``cancel.check()``, which raises :class:`Cancelled` once another
thread has called ``cancel.cancel()``: the output folder is then left as it was (staging removed;
a design store keeps its committed chunks, so ``resume`` continues).
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from dermsim.errors import DermsimError

__all__ = ["NO_PROGRESS", "CancelToken", "Cancelled", "NullProgress", "Progress", "check_cancel"]


@runtime_checkable
class Progress(Protocol):
    """Receiver of a workflow's progress (one stage at a time)."""

    def start(self, total: int | None, label: str) -> None:
        """A stage begins: ``total`` units of work (None: unknown), shown as ``label``."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the current stage are done."""

    def done(self, info: str = "") -> None:
        """The current stage is finished; ``info`` is a short summary ("330 subjects")."""


class NullProgress:
    """Progress that shows nothing (the default)."""

    def start(self, total: int | None, label: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def done(self, info: str = "") -> None:
        pass


NO_PROGRESS = NullProgress()


class Cancelled(DermsimError):
    """A workflow was cancelled through its :class:`CancelToken`."""


class CancelToken:
    """A thread-safe cancel flag: the UI thread calls :meth:`cancel`, the worker :meth:`check`."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if :meth:`cancel` was called."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user; nothing was written.")


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None:
        cancel.check()
