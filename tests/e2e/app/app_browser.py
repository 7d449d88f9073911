"""Helpers of the web app's browser tests (paths, page navigation, waiting for a job)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "out" / "test-artifacts" / "app"
AXE_JS = Path(os.environ.get("DERMSIM_AXE_JS", ROOT / "out" / "vendor" / "axe-core" / "axe.min.js"))
PILOT = ROOT.parent / "shared" / "data" / "cdisc_pilot"


def open_page(pg: object, name: str) -> None:
    """Click the navbar link of a page and wait for its panel."""
    pg.get_by_role("tab", name=name).click()  # type: ignore[attr-defined]
    pg.wait_for_timeout(300)  # type: ignore[attr-defined]


def fill(pg: object, input_id: str, text: str) -> None:
    """Type ``text`` into input ``input_id`` and wait until the server has it (Shiny sends typed
    text and numbers after a debounce, so a Run clicked at once could run on the old value)."""
    pg.fill(f"#{input_id}", text)  # type: ignore[attr-defined]
    pg.wait_for_function(  # type: ignore[attr-defined]
        """([id, text]) => {
            const vals = Shiny.shinyapp.$inputValues;
            const key = Object.keys(vals).find(k => k === id || k.startsWith(id + ":"));
            const v = key === undefined ? undefined : vals[key];
            return String(v === null || v === undefined ? "" : v) === text;
        }""",
        arg=[input_id, text],
    )


def click_run(pg: object, scope: str, button: str = "run") -> int:
    """Click button ``#{scope}-{button}`` and return how many runs the page's job had started
    before it, for ``wait_status(after=...)``: a status block still showing the previous run's
    "done" must not be taken for this run's."""
    before = pg.evaluate(  # type: ignore[attr-defined]
        "(sel) => { const e = document.querySelector(sel); return e ? Number(e.dataset.run || 0) : 0; }",
        f"#{scope}-status .job-status",
    )
    pg.click(f"#{scope}-{button}")  # type: ignore[attr-defined]
    return int(before)


def wait_status(
    pg: object,
    scope: str,
    statuses: tuple[str, ...] = ("done",),
    timeout_s: float = 120,
    after: int | None = None,
) -> str:
    """Wait until the job status block of page ``scope`` shows one of ``statuses`` (for the run
    started after ``after`` runs, when given); return it."""
    run = "" if after is None else f"[data-run='{after + 1}']"
    sel = ", ".join(f"#{scope}-status .job-status[data-status='{s}']{run}" for s in statuses)
    el = pg.wait_for_selector(sel, timeout=timeout_s * 1000)  # type: ignore[attr-defined]
    return str(el.get_attribute("data-status"))


def axe_violations(pg: object, scope: str) -> list[dict]:
    """Serious and critical axe-core violations inside the visible page panel."""
    if not AXE_JS.is_file():
        pytest.skip(f"axe-core not vendored at {AXE_JS} (scripts/install-external.sh does it with npm)")
    if not pg.evaluate("() => typeof axe !== 'undefined'"):  # type: ignore[attr-defined]
        pg.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    res = pg.evaluate(  # type: ignore[attr-defined]
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [v for v in res if v["impact"] in ("serious", "critical")]


def assert_accessible(pg: object, scope: str) -> None:
    """No serious or critical axe-core violation on the page as it is now (with its results). The
    pointer is moved off and focus dropped first, so that a button just clicked is measured at rest,
    not halfway through its hover transition."""
    pg.mouse.move(0, 0)  # type: ignore[attr-defined]
    pg.evaluate("() => document.activeElement && document.activeElement.blur()")  # type: ignore[attr-defined]
    pg.wait_for_timeout(400)  # type: ignore[attr-defined]
    bad = axe_violations(pg, scope)
    assert not bad, json.dumps(bad, indent=1)
