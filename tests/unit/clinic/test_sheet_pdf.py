"""The family sheet printed by headless Chromium fits one page and renders to PNG (pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dermsim.clinic import DosePlanInput, build_family_sheet, compute_benefit_risk, plan_dose
from dermsim.report.family_sheet import export_family_sheet, find_chromium

pytestmark = [pytest.mark.external, pytest.mark.slow]


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.parametrize("kw", [
    {"age_y": 6.0, "regions": {"arms": 50, "legs": 30, "trunk": 10}},
    {"age_y": 15.0, "area_pct": 25.0},   # two studies and a label excess: the longest sheet
])
def test_sheet_pdf_is_one_page_and_renders_to_png(tmp_path: Path, kw: dict) -> None:
    if find_chromium() is None:
        pytest.skip("Chromium not installed (scripts/install-external.sh)")
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils (pdftoppm, pdfinfo) not installed")
    plan = plan_dose(DosePlanInput(**kw), seed=1, n_draws=500)
    pdf = export_family_sheet(build_family_sheet(plan, compute_benefit_risk(plan)), tmp_path / "sheet.pdf")
    assert _pages(pdf) == 1
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == 1 and pngs[0].stat().st_size > 10_000
    assert not list(tmp_path.glob(".sheet.pdf.*"))  # nothing half-written left behind
