"""Helpers of the web app's browser tests (paths, page navigation, waiting for a job)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "out" / "test-artifacts" / "app"
AXE_JS = Path(os.environ.get("DERMSIM_AXE_JS", ROOT / "out" / "vendor" / "axe-core" / "axe.min.js"))
PILOT = ROOT.parent / "shared" / "data" / "cdisc_pilot"


def open_page(pg: object, name: str) -> None:
    """Click the navbar link of a page and wait for its panel."""
    pg.get_by_role("tab", name=name).click()  # type: ignore[attr-defined]
    pg.wait_for_timeout(300)  # type: ignore[attr-defined]


def wait_status(pg: object, scope: str, statuses: tuple[str, ...] = ("done",), timeout_s: float = 120) -> str:
    """Wait until the job status block of page ``scope`` shows one of ``statuses``; return it."""
    sel = ", ".join(f"#{scope}-status .job-status[data-status='{s}']" for s in statuses)
    el = pg.wait_for_selector(sel, timeout=timeout_s * 1000)  # type: ignore[attr-defined]
    return str(el.get_attribute("data-status"))
