"""Screenshots of the dose card and the family sheet (HTML and PDF, English and Spanish) written as
test artifacts (``$DERMSIM_ARTIFACTS`` or ``build/test-artifacts/clinic``), each PDF one page, made
with the project's own print path (headless Chromium, ``report.family_sheet.render_pdf``)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dermsim.clinic import DosePlanInput, build_family_sheet, compute_benefit_risk, plan_dose
from dermsim.clinic.scenarios import run_scenarios
from dermsim.report.dose_card import export_dose_card
from dermsim.report.family_sheet import export_family_sheet, find_chromium

pytestmark = [pytest.mark.external, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def _out() -> Path:
    out = Path(os.environ.get("DERMSIM_ARTIFACTS", ROOT / "build" / "test-artifacts")) / "clinic"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_card_and_sheet_screenshots(lang: str) -> None:
    browser = find_chromium()
    if browser is None:
        pytest.skip("Chromium not installed (scripts/install-external.sh)")
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils (pdftoppm, pdfinfo) not installed")
    out = _out()
    plan = plan_dose(DosePlanInput(age_y=6.0, weight_kg=21.0, height_cm=116.0,
                                   regions={"arms": 50, "legs": 30, "trunk": 10}), seed=1, n_draws=1000)
    sheet = build_family_sheet(plan, compute_benefit_risk(plan), lang=lang,
                               scenarios=run_scenarios(plan, seed=1))
    made = {f"card_{lang}": export_dose_card(plan, out / f"card_{lang}.html", lang=lang),
            f"sheet_{lang}": export_family_sheet(sheet, out / f"sheet_{lang}.html")}
    export_dose_card(plan, out / f"card_{lang}.pdf", lang=lang, page_size="A4")
    export_family_sheet(sheet, out / f"sheet_{lang}.pdf", page_size="Letter")
    for name, html_path in made.items():
        png = out / f"{name}_html.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--user-data-dir={out / '.profile'}", f"--screenshot={png}",
                        "--window-size=900,1600", html_path.as_uri()],
                       capture_output=True, check=True, timeout=120)
        assert png.stat().st_size > 20_000
        pdf = out / f"{name}.pdf"
        assert _pages(pdf) == 1, name
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(out / f"{name}_pdf")],
                       check=True)
        assert (out / f"{name}_pdf.png").stat().st_size > 20_000
