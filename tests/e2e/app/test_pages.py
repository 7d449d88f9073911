"""Each page of the web app loads, has no serious or critical axe-core violation, and is
photographed (out/test-artifacts/app/<page>.png)."""

from __future__ import annotations

import json

import pytest

from e2e.app.app_browser import axe_violations, open_page

pytestmark = pytest.mark.external

PAGES = [
    ("trial", "Trial", "Virtual trial"),
    ("analysis", "Analysis", "Analysis of ADaM data"),
    ("design", "Design", "Power over sample size"),
    ("explorer", "Model explorer", "Model explorer"),
    ("clinic", "Clinic", "Dose planner"),
]


def test_every_page_loads_and_is_accessible(page: object, artifacts: object) -> None:
    problems = {}
    for key, tab, heading in PAGES:  # one browser page for all five: the run stays short
        open_page(page, tab)
        page.get_by_role("heading", name=heading).wait_for()  # type: ignore[attr-defined]
        if key == "clinic":
            page.wait_for_selector("svg.body-map [data-region='thighs']")  # type: ignore[attr-defined]
        page.screenshot(path=str(artifacts / f"{key}-empty.png"), full_page=True)  # type: ignore[attr-defined]
        bad = axe_violations(page, key)
        if bad:
            problems[key] = bad
    assert not problems, json.dumps(problems, indent=1)
