"""Long workflows off the UI thread.

A :class:`Job` runs one workflow in a worker thread with the workflow's own :class:`CancelToken`
and is the workflow's :class:`Progress`: the worker writes progress into the job under a lock and
the page polls :meth:`Job.snapshot` (every ~0.4 s while it runs) to draw the progress bar. Shiny's
``ui.Progress`` must be driven from the event loop, which the worker thread cannot do; polling keeps
the worker free of Shiny. The server runs at most :data:`MAX_RUNNING` jobs at once over all
sessions (the machine is small); a further one is refused with a message, not queued.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dermsim.errors import DermsimError
from dermsim.workflows import Cancelled, CancelToken

__all__ = ["MAX_RUNNING", "Job", "Snapshot", "error_text"]

MAX_RUNNING = 2
_SLOTS = threading.BoundedSemaphore(MAX_RUNNING)


def error_text(exc: BaseException) -> str:
    """One line for the page: a dermsim error as it is; anything else named as an internal error."""
    if isinstance(exc, DermsimError):
        return " ".join(str(exc).split())
    if isinstance(exc, OSError | ValueError | KeyError | MemoryError):
        return f"could not finish: {type(exc).__name__}: {' '.join(str(exc).split())}"
    return f"internal error ({type(exc).__name__}); please report it with what you entered."


@dataclass(frozen=True)
class Snapshot:
    status: str  # idle | running | done | error | cancelled
    label: str = ""
    done: int = 0
    total: int | None = None
    message: str = ""
    stages: tuple[str, ...] = ()
    version: int = 0  # changes whenever anything above or the partial results change
    run: int = 0  # how many runs this job has started; lets a page (and its tests) tell runs apart

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class Job:
    """One workflow run in a thread; also its Progress receiver (start/advance/done)."""

    def __init__(self, scrub: Callable[[str], str] = str) -> None:
        self._scrub = scrub  # hides the session's private paths in messages
        self._lock = threading.Lock()
        self._snap = Snapshot("idle")
        self._result: Any = None
        self._partial: list[Any] = []
        self._token = CancelToken()
        self._thread: threading.Thread | None = None

    # ---- Progress protocol (called from the worker) ----
    def _update(self, **changes: Any) -> None:
        with self._lock:
            s = self._snap
            self._snap = Snapshot(**{**s.__dict__, **changes, "version": s.version + 1})

    def start(self, total: int | None, label: str) -> None:
        self._update(label=label, total=total, done=0)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            s = self._snap
            self._snap = Snapshot(**{**s.__dict__, "done": s.done + n, "version": s.version + 1})

    def done(self, info: str = "") -> None:
        with self._lock:
            s = self._snap
            line = f"{s.label}: {info}" if info else s.label
            self._snap = Snapshot(
                **{
                    **s.__dict__,
                    "done": s.total or s.done,
                    "stages": (*s.stages, line),
                    "version": s.version + 1,
                }
            )

    def publish(self, item: Any) -> None:
        """A partial result (e.g. one more point of a power curve) the page may show already."""
        with self._lock:
            self._partial.append(item)
            s = self._snap
            self._snap = Snapshot(**{**s.__dict__, "version": s.version + 1})

    # ---- called from the UI ----
    @property
    def token(self) -> CancelToken:
        return self._token

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._snap

    def partial(self) -> list[Any]:
        with self._lock:
            return list(self._partial)

    def result(self) -> Any:
        with self._lock:
            return self._result

    def cancel(self) -> None:
        self._token.cancel()

    def run(self, fn: Callable[[Job], Any], label: str) -> bool:
        """Start ``fn(job)`` in a thread; False (and a message in the snapshot) when the server is busy
        or this job is still running."""
        if self._thread is not None and self._thread.is_alive():
            return False
        if not _SLOTS.acquire(blocking=False):
            with self._lock:
                self._snap = Snapshot(
                    "error",
                    message="the server is busy with other runs; try again in a minute.",
                    version=self._snap.version + 1,
                    run=self._snap.run + 1,
                )
            return False
        self._token = CancelToken()
        with self._lock:
            self._result = None
            self._partial = []
            s = self._snap
            self._snap = Snapshot("running", label=label, version=s.version + 1, run=s.run + 1)
        self._thread = threading.Thread(target=self._work, args=(fn,), daemon=True, name="dermsim-app-job")
        self._thread.start()
        return True

    def _work(self, fn: Callable[[Job], Any]) -> None:
        try:
            result = fn(self)
        except Cancelled:
            self._finish("cancelled", None, "cancelled; nothing was kept from the unfinished part.")
        except BaseException as exc:
            if not isinstance(exc, DermsimError):
                traceback.print_exc()
            self._finish("error", None, self._scrub(error_text(exc)))
        else:
            self._finish("done", result, "")
        finally:
            _SLOTS.release()

    def _finish(self, status: str, result: Any, message: str) -> None:
        with self._lock:
            self._result = result
            s = self._snap
            self._snap = Snapshot(
                **{**s.__dict__, "status": status, "message": message, "version": s.version + 1}
            )
